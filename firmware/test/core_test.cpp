// Unit tests of the core, one behaviour each; the Device tests drive it through a recording
// DeviceIo with a clock the test moves.
#include <doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "telly/backoff.h"
#include "telly/bootstrap.h"
#include "telly/command.h"
#include "telly/device.h"
#include "telly/json.h"
#include "telly/outbox.h"
#include "telly/senml.h"
#include "telly/sensors.h"
#include "telly/timed_switch.h"

using namespace telly;

TEST_CASE("JsonWriter writes fixed-point numbers and escaped strings, and refuses to overflow") {
  char buf[64];
  JsonWriter w(buf, sizeof buf);
  w.fixed(215, 1).raw(" ").fixed(-5, 1).raw(" ").fixed(2200, 2).raw(" ").fixed(1796100000123, 3);
  CHECK(std::string(w.c_str()) == "21.5 -0.5 22 1796100000.123");
  JsonWriter s(buf, sizeof buf);
  s.str("a\"b\\c\nd\x01");
  CHECK(std::string(s.c_str()) == "\"a\\\"b\\\\c\\nd\\u0001\"");
  char tiny[4];
  JsonWriter t(tiny, sizeof tiny);
  t.raw("abcd");
  CHECK_FALSE(t.ok());
  CHECK(std::string(t.c_str()).empty());
}

TEST_CASE("a SenML pack carries the message id and the base time on its first record") {
  char out[256];
  MessageId id{0x1a2b3c4d, 17};
  SenmlRecord records[] = {
      {"temperature", "Cel", scaleValue(21.46f, 1), 1, nullptr},
      {"humidity", "%RH", scaleValue(40.0f, 1), 1, nullptr},
      {"dht_fault", nullptr, 0, 0, "stuck"},
  };
  size_t n = encodePack(out, sizeof out, id, 1796100000123ull, records, 3);
  CHECK(n == std::strlen(out));
  CHECK(std::string(out) ==
        "[{\"mid\":\"1a2b3c4d-17\",\"bt\":1796100000.123,\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.5},"
        "{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":40},{\"n\":\"dht_fault\",\"vs\":\"stuck\"}]");
  SUBCASE("without a wall clock the base time is left to the platform") {
    encodePack(out, sizeof out, id, 0, records, 1);
    CHECK(std::string(out) == "[{\"mid\":\"1a2b3c4d-17\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.5}]");
  }
  SUBCASE("a pack that does not fit is not written") { CHECK(encodePack(out, 40, id, 0, records, 3) == 0); }
  SUBCASE("the same reading encodes to the same bytes, so a resend is byte-identical") {
    char again[256];
    encodePack(out, sizeof out, id, 5, records, 2);
    encodePack(again, sizeof again, id, 5, records, 2);
    CHECK(std::string(out) == std::string(again));
  }
}

static CommandError parse(const std::string& json, Command& c, std::string* reason = nullptr) {
  char why[128];
  CommandError e = parseCommand(json.data(), json.size(), c, why, sizeof why);
  if (reason) *reason = why;
  return e;
}

TEST_CASE("commands: ON, OFF, timed ON and other names") {
  Command c;
  CHECK(parse(R"({"id":"c1","name":"ON","payload":null,"expiresAt":"2026-12-01T13:00:00Z"})", c) == CommandError::None);
  CHECK(c.action == Action::LedOn);
  CHECK(std::string(c.id) == "c1");
  CHECK(parse(R"({"id":"c2","name":"off"})", c) == CommandError::None);
  CHECK(c.action == Action::LedOff);
  CHECK(parse(R"({"id":"c3","name":"on","payload":{"seconds":30}})", c) == CommandError::None);
  CHECK(c.action == Action::LedOnFor);
  CHECK(c.seconds == 30);
  CHECK(parse(R"({"id":"c4","name":"on","payload":5})", c) == CommandError::None);
  CHECK((c.action == Action::LedOnFor && c.seconds == 5));
  CHECK(parse(R"({"id":"c5","name":"led","payload":"ON"})", c) == CommandError::None);
  CHECK(c.action == Action::LedOn);
  CHECK(parse(R"({"id":"c6","name":"led","payload":{"state":"on","seconds":2}})", c) == CommandError::None);
  CHECK((c.action == Action::LedOnFor && c.seconds == 2));
  CHECK(parse(R"({"id":"c7","name":"led","payload":{"state":"OFF","seconds":2}})", c) == CommandError::None);
  CHECK(c.action == Action::LedOff);
  const std::string echo = R"({"id":"c8","name":"echo","payload":{"a":[1,2,{"b":"\"x\""}]}})";  // payload points into it
  CHECK(parse(echo, c) == CommandError::None);
  CHECK(c.action == Action::Other);
  CHECK(std::string(c.name) == "echo");
  CHECK(std::string(c.payload, c.payloadLength) == R"({"a":[1,2,{"b":"\"x\""}]})");
  const std::string text = R"({"id":"c9","name":"echo","payload":"text"})";
  CHECK(parse(text, c) == CommandError::None);
  CHECK(std::string(c.payload, c.payloadLength) == "\"text\"");
}

TEST_CASE("commands that cannot be done are reported with a reason; unreadable ones are dropped") {
  Command c;
  std::string why;
  CHECK(parse(R"({"id":"c1","name":"on","payload":{"seconds":0}})", c, &why) == CommandError::Invalid);
  CHECK(why.find("seconds") != std::string::npos);
  CHECK(parse(R"({"id":"c1","name":"on","payload":{"seconds":86401}})", c, &why) == CommandError::Invalid);
  CHECK(parse(R"({"id":"c1","name":"on","payload":{"seconds":1.5}})", c, &why) == CommandError::Invalid);
  CHECK(parse(R"({"id":"c1","name":"led","payload":"BLINK"})", c, &why) == CommandError::Invalid);
  CHECK(why.find("led needs") != std::string::npos);
  CHECK(std::string(c.id) == "c1");
  CHECK(parse(R"({"id":"c1"})", c, &why) == CommandError::Invalid);
  CHECK(parse(R"({"name":"on"})", c, &why) == CommandError::Unreadable);
  CHECK(parse(R"([1,2])", c, &why) == CommandError::Unreadable);
  CHECK(parse(R"({"id":"c1","name":"on"} trailing)", c, &why) == CommandError::Unreadable);
  CHECK(parse(R"({"id":"c1","name":"on")", c, &why) == CommandError::Unreadable);
  CHECK(parse("", c, &why) == CommandError::Unreadable);
}

TEST_CASE("results and topics") {
  char out[160];
  CHECK(resultTopic(out, sizeof out, "t1", "c1") > 0);
  CHECK(std::string(out) == "things/t1/commands/c1/result");
  CHECK(resultTopic(out, sizeof out, "t1", "c/1") == 0);
  commandsTopic(out, sizeof out, "t1");
  CHECK(std::string(out) == "things/t1/commands");
  encodeSucceeded(out, sizeof out, R"({"led":"ON"})");
  CHECK(std::string(out) == R"({"status":"succeeded","result":{"led":"ON"}})");
  encodeFailed(out, sizeof out, "bad \"seconds\"");
  CHECK(std::string(out) == R"({"status":"failed","reason":"bad \"seconds\""})");
}

TEST_CASE("a timed ON ends at its deadline, also across the millisecond clock's wrap") {
  TimedSwitch s;
  uint32_t t0 = 0xFFFFF000u;  // 4 s before millis() wraps
  s.turnOnFor(10, t0);
  CHECK(s.on());
  CHECK_FALSE(s.expire(t0 + 9999));
  CHECK(s.remainingMs(t0 + 9000) == 1000);
  CHECK(s.expire(t0 + 10000));
  CHECK_FALSE(s.on());
  CHECK_FALSE(s.expire(t0 + 20000));  // once
  s.turnOnFor(10, 0);
  s.turnOn(5);  // a plain ON cancels the timer
  CHECK_FALSE(s.expire(60000));
  CHECK(s.on());
}

TEST_CASE("the offline buffer resends in order, drops the oldest when full, and waits for the ack") {
  Outbox<3, 16> box;
  for (uint32_t i = 1; i <= 4; i++) {
    char m[2] = {static_cast<char>('0' + i), 0};
    CHECK(box.push(i, m, 1));
  }
  CHECK(box.size() == 3);
  CHECK(box.dropped() == 1);
  CHECK(std::string(box.next()->bytes) == "2");
  box.sent(7);
  CHECK(box.next() == nullptr);  // one in flight at a time
  CHECK_FALSE(box.acknowledge(8));
  box.resendInFlight();  // connection lost, client forgot it
  REQUIRE(box.next() != nullptr);
  CHECK(std::string(box.next()->bytes) == "2");
  box.sent(9);
  CHECK(box.acknowledge(9));
  CHECK(std::string(box.next()->bytes) == "3");
  CHECK_FALSE(box.push(5, "0123456789abcdef", 16));  // longer than a slot
}

TEST_CASE("backoff doubles up to its cap, with jitter in [ceiling/2, ceiling]") {
  Backoff b(1000, 30000);
  Random r(42);
  uint32_t ceilings[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
  for (uint32_t ceiling : ceilings) {
    uint32_t d = b.next(r);
    CHECK(d >= ceiling / 2);
    CHECK(d <= ceiling);
  }
  b.reset();
  CHECK(b.next(r) <= 1000);
  // two devices seeded differently do not retry in lockstep
  Backoff a1(1000, 60000), a2(1000, 60000);
  Random r1(1), r2(2);
  int same = 0;
  for (int i = 0; i < 6; i++) same += a1.next(r1) == a2.next(r2);
  CHECK(same < 6);
}

TEST_CASE("DHT11 plausibility: NaN, range, stuck") {
  Dht11Limits limits;
  limits.stuckAfter = 3;
  Dht11Check check(limits);
  CHECK(check.check(NAN, 40) == Verdict::NotANumber);
  CHECK(check.check(21, NAN) == Verdict::NotANumber);
  CHECK(check.check(80, 40) == Verdict::OutOfRange);
  CHECK(check.check(21, 100) == Verdict::OutOfRange);
  CHECK(check.check(-10, 40) == Verdict::OutOfRange);
  CHECK(check.check(21, 40) == Verdict::Ok);
  CHECK(check.check(21, 40) == Verdict::Ok);
  CHECK(check.check(21, 40) == Verdict::Stuck);
  CHECK(check.check(22, 40) == Verdict::Ok);
  CHECK(std::string(verdictText(Verdict::Stuck)) == "stuck");
}

TEST_CASE("soil moisture maps the calibrated ADC range to 0–100 % and refuses a disconnected probe") {
  SoilCalibration cal;  // dry 850, wet 400, margin 60
  int32_t tenths = -1;
  CHECK(soilMoisture(850, cal, &tenths) == Verdict::Ok);
  CHECK(tenths == 0);
  CHECK(soilMoisture(400, cal, &tenths) == Verdict::Ok);
  CHECK(tenths == 1000);
  CHECK(soilMoisture(625, cal, &tenths) == Verdict::Ok);
  CHECK(tenths == 500);
  CHECK(soilMoisture(880, cal, &tenths) == Verdict::Ok);
  CHECK(tenths == 0);  // within the margin: clamped
  CHECK(soilMoisture(1024, cal, &tenths) == Verdict::OutOfRange);
  CHECK(soilMoisture(0, cal, &tenths) == Verdict::OutOfRange);
}

TEST_CASE("bootstrap: the request and the answer") {
  char path[96];
  CHECK(bootstrapPath(path, sizeof path, "aa:bb:cc:dd:ee:ff") > 0);
  CHECK(std::string(path) == "/things/bootstrap/aa:bb:cc:dd:ee:ff");
  bootstrapPath(path, sizeof path, "a b/c");
  CHECK(std::string(path) == "/things/bootstrap/a%20b%2Fc");
  CHECK(bootstrapPath(path, sizeof path, "") == 0);
  char auth[64];
  bootstrapAuthorization(auth, sizeof auth, "k3y");
  CHECK(std::string(auth) == "Thing k3y");

  Credentials c;
  char error[96];
  std::string body =
      R"({"id":"t1","key":"secret\/key","channels":[{"id":"ch1","name":"a","metadata":{"x":[1]}},)"
      R"({"id":"ch2","name":"greenhouse-1","metadata":{}}],"content":"{\"interval\":10}"})";
  REQUIRE(parseBootstrap(body.data(), body.size(), "", c, error, sizeof error));
  CHECK(std::string(c.thingId) == "t1");
  CHECK(std::string(c.key) == "secret/key");
  CHECK(std::string(c.channelId) == "ch1");
  REQUIRE(parseBootstrap(body.data(), body.size(), "greenhouse-1", c, error, sizeof error));
  CHECK(std::string(c.channelId) == "ch2");
  CHECK_FALSE(parseBootstrap(body.data(), body.size(), "other", c, error, sizeof error));
  CHECK(std::string(error).find("configured channel") != std::string::npos);
  std::string none = R"({"id":"t1","key":"k","channels":[]})";
  CHECK_FALSE(parseBootstrap(none.data(), none.size(), "", c, error, sizeof error));
  CHECK(std::string(error).find("no channel") != std::string::npos);
  std::string bad = R"({"id":"t1"})";
  CHECK_FALSE(parseBootstrap(bad.data(), bad.size(), "", c, error, sizeof error));
  CHECK(std::string(error).find("key") != std::string::npos);
}

// ---- the Device, through a recording DeviceIo ----

struct Sent {
  std::string topic;
  std::string payload;
};

struct FakeIo : DeviceIo {
  uint32_t now = 1000;
  uint64_t epoch = 1796100000000ull;
  bool up = true;           // the client accepts publishes
  bool waitsForAck = false;  // publish returns Pending instead of Acknowledged
  int nextToken = 1;
  bool led = false;
  std::vector<Sent> sent;
  std::vector<std::string> lines;
  Published publish(const char* topic, const char* payload, size_t length, int* token) override {
    if (!up) return Published::Failed;
    sent.push_back({topic, std::string(payload, length)});
    *token = nextToken++;
    return waitsForAck ? Published::Pending : Published::Acknowledged;
  }
  void setLed(bool on) override { led = on; }
  void log(const char* line) override { lines.emplace_back(line); }
  uint32_t nowMs() override { return now; }
  uint64_t epochMs() override { return epoch; }
  bool handle(const Command& c, char* result, size_t cap, char* reason, size_t reasonCap) override {
    if (std::string(c.name) != "echo") return DeviceIo::handle(c, result, cap, reason, reasonCap);
    return copyString(result, cap, std::string(c.payload, c.payloadLength).c_str());
  }
};

static Credentials creds() {
  Credentials c;
  copyString(c.thingId, sizeof c.thingId, "thing-1");
  copyString(c.key, sizeof c.key, "key");
  copyString(c.channelId, sizeof c.channelId, "chan-1");
  return c;
}

static void drain(Device& d, int rounds = 64) {
  for (int i = 0; i < rounds; i++) d.loop();
}

static void command(Device& d, const std::string& json) { d.message("things/thing-1/commands", json.data(), json.size()); }

TEST_CASE("Device: a reading goes to the channel as SenML, with the LED state") {
  FakeIo io;
  Device d(io, creds(), 0xabcdef01, 7);
  d.connected(false);
  d.sample(21.5f, 40, 625);
  drain(d);
  REQUIRE(io.sent.size() == 1);
  CHECK(io.sent[0].topic == "channels/chan-1/messages");
  CHECK(io.sent[0].payload ==
        R"([{"mid":"abcdef01-1","bt":1796100000,"n":"temperature","u":"Cel","v":21.5},)"
        R"({"n":"humidity","u":"%RH","v":40},{"n":"soil_moisture","u":"%","v":50},{"n":"led","v":0}])");
  d.sample(NAN, NAN, -1);
  drain(d);
  CHECK(io.sent[1].payload == R"([{"mid":"abcdef01-2","bt":1796100000,"n":"dht_fault","vs":"nan"},{"n":"led","v":0}])");
}

TEST_CASE("Device: a timed ON lights the LED, reports, and ends by the device's own clock") {
  FakeIo io;
  Device d(io, creds(), 1, 7);
  d.connected(false);
  command(d, R"({"id":"cmd-1","name":"on","payload":{"seconds":3}})");
  CHECK(io.led);
  drain(d);
  REQUIRE(io.sent.size() == 2);
  CHECK(io.sent[0].payload == R"([{"mid":"00000001-1","bt":1796100000,"n":"led","v":1}])");
  CHECK(io.sent[1].topic == "things/thing-1/commands/cmd-1/result");
  CHECK(io.sent[1].payload == R"({"status":"succeeded","result":{"led":"ON","seconds":3}})");
  io.now += 2999;
  drain(d);
  CHECK(io.led);
  d.disconnected();  // the expiry does not need the platform
  io.now += 1;
  d.loop();
  CHECK_FALSE(io.led);
  CHECK(io.sent.size() == 2);
  d.connected(true);
  drain(d);
  REQUIRE(io.sent.size() == 3);
  CHECK(io.sent[2].payload == R"([{"mid":"00000001-2","bt":1796100000,"n":"led","v":0}])");
}

TEST_CASE("Device: a command sent again is done once; a bad one fails; an unknown name fails; echo") {
  FakeIo io;
  Device d(io, creds(), 1, 7);
  d.connected(false);
  command(d, R"({"id":"a","name":"on","payload":{"seconds":10}})");
  io.now += 5000;
  command(d, R"({"id":"a","name":"on","payload":{"seconds":10}})");  // redelivered: not re-armed
  io.now += 5000;
  d.loop();
  CHECK_FALSE(io.led);
  command(d, R"({"id":"b","name":"led","payload":"BLINK"})");
  command(d, R"({"id":"c","name":"reboot"})");
  command(d, R"({"id":"e","name":"echo","payload":{"x":[1,"y"]}})");
  command(d, R"({"id":"f","name":"echo"})");
  drain(d);
  std::vector<std::string> results;
  for (auto& s : io.sent)
    if (s.topic.find("/result") != std::string::npos) results.push_back(s.topic + " " + s.payload);
  REQUIRE(results.size() == 5);
  CHECK(results[0] == R"(things/thing-1/commands/a/result {"status":"succeeded","result":{"led":"ON","seconds":10}})");
  CHECK(results[1].rfind("things/thing-1/commands/b/result {\"status\":\"failed\",\"reason\":\"led needs", 0) == 0);
  CHECK(results[2] == R"(things/thing-1/commands/c/result {"status":"failed","reason":"unknown command reboot"})");
  CHECK(results[3] == R"(things/thing-1/commands/e/result {"status":"succeeded","result":{"x":[1,"y"]}})");
  CHECK(results[4] == R"(things/thing-1/commands/f/result {"status":"succeeded","result":null})");
}

TEST_CASE("Device: offline, readings wait in order and go out after reconnecting") {
  FakeIo io;
  io.waitsForAck = true;
  Device d(io, creds(), 1, 7);
  d.connected(false);
  d.sample(20, 40, -1);
  d.loop();
  REQUIRE(io.sent.size() == 1);  // in flight, not yet acked
  d.disconnected();
  for (int i = 0; i < 3; i++) d.sample(21.0f + static_cast<float>(i), 40, -1);
  drain(d);
  CHECK(io.sent.size() == 1);
  CHECK(d.waiting() == 4);
  SUBCASE("a clean session: the unacknowledged one is sent again, then the rest, in order") {
    d.connected(false);
    for (int i = 0; i < 4; i++) {
      d.loop();
      d.delivered(io.nextToken - 1);
    }
    REQUIRE(io.sent.size() == 5);
    CHECK(io.sent[1].payload == io.sent[0].payload);  // byte-identical resend
    for (int i = 2; i <= 4; i++) {
      CHECK(io.sent[static_cast<size_t>(i)].payload.find("\"mid\":\"00000001-" + std::to_string(i) + "\"") !=
            std::string::npos);
    }
    CHECK(d.waiting() == 0);
  }
  SUBCASE("a kept session: the client resends the one in flight, the device waits for its ack") {
    d.connected(true);
    drain(d);
    CHECK(io.sent.size() == 1);
    d.delivered(1);
    d.loop();
    CHECK(io.sent.size() == 2);
    CHECK(io.sent[1].payload.find("\"mid\":\"00000001-2\"") != std::string::npos);
  }
}

TEST_CASE("Device: a long outage keeps the newest readings and says what it dropped") {
  FakeIo io;
  Device d(io, creds(), 1, 7);
  for (size_t i = 0; i < Device::kOutboxSlots + 5; i++) d.sample(20, 40, -1);
  CHECK(d.waiting() == Device::kOutboxSlots);
  CHECK(d.dropped() == 5);
  d.connected(false);
  drain(d, 100);
  REQUIRE(io.sent.size() == Device::kOutboxSlots);
  CHECK(io.sent.front().payload.find("\"mid\":\"00000001-6\"") != std::string::npos);
}
