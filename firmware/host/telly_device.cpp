// The device on a POSIX host: the same core as the ESP8266 sketch, with Eclipse Paho (C, MQTT
// 3.1.1) instead of the Wi-Fi stack, a simulated DHT11 and soil probe, and the LED as a line on
// stdout ("LED ON" / "LED OFF"). Used by the integration test against a real `telly up`, and
// by anyone who wants to watch the firmware's protocol without a board.
//
//   telly-device --url tcp://127.0.0.1:1883 --bootstrap answer.json [--channel-name NAME]
//   telly-device --url tcp://127.0.0.1:1883 --thing ID --key KEY --channel ID
//   options: --interval-ms N (default 10000), --samples N (then stop sampling), --boot-id HEX
//
// The log goes to stderr, one line per event, as on the board's serial port.
#include <MQTTClient.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

#include "telly/bootstrap.h"
#include "telly/device.h"
#include "telly/json.h"

namespace {

volatile sig_atomic_t stopping = 0;
void onSignal(int) { stopping = 1; }

uint32_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint32_t>(static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u);
}

uint64_t wallMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

uint32_t hardwareRandom() {
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) r = static_cast<uint32_t>(wallMs());
  return r;
}

// what Paho's thread hands to the main loop
struct Event {
  enum Kind { Message, Delivered, Lost } kind;
  std::string topic;
  std::string payload;
  int token = 0;
};

struct Inbox {
  std::mutex mutex;
  std::deque<Event> events;
  void push(Event e) {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(std::move(e));
  }
  bool pop(Event& e) {
    std::lock_guard<std::mutex> lock(mutex);
    if (events.empty()) return false;
    e = std::move(events.front());
    events.pop_front();
    return true;
  }
};

int onMessage(void* context, char* topic, int topicLength, MQTTClient_message* message) {
  Event e{Event::Message, topicLength > 0 ? std::string(topic, static_cast<size_t>(topicLength)) : std::string(topic),
          std::string(static_cast<const char*>(message->payload), static_cast<size_t>(message->payloadlen))};
  static_cast<Inbox*>(context)->push(std::move(e));
  MQTTClient_freeMessage(&message);
  MQTTClient_free(topic);
  return 1;
}

void onDelivered(void* context, MQTTClient_deliveryToken token) {
  static_cast<Inbox*>(context)->push({Event::Delivered, {}, {}, token});
}

void onLost(void* context, char* cause) {
  (void)cause;
  static_cast<Inbox*>(context)->push({Event::Lost, {}, {}, 0});
}

class HostIo : public telly::DeviceIo {
 public:
  explicit HostIo(MQTTClient client) : client_(client) {}
  telly::Published publish(const char* topic, const char* payload, size_t length, int* token) override {
    MQTTClient_deliveryToken dt = 0;
    int rc = MQTTClient_publish(client_, topic, static_cast<int>(length), payload, 1, 0, &dt);
    if (rc != MQTTCLIENT_SUCCESS) return telly::Published::Failed;
    *token = dt;
    return telly::Published::Pending;
  }
  void setLed(bool on) override {
    printf("LED %s\n", on ? "ON" : "OFF");
    fflush(stdout);
  }
  void log(const char* line) override { fprintf(stderr, "[telly] %s\n", line); }
  uint32_t nowMs() override { return monotonicMs(); }
  uint64_t epochMs() override { return wallMs(); }
  // "echo": the arbitrary payload comes back as the result
  bool handle(const telly::Command& command, char* result, size_t resultCap, char* reason,
              size_t reasonCap) override {
    if (strcmp(command.name, "echo") != 0) return DeviceIo::handle(command, result, resultCap, reason, reasonCap);
    std::string payload(command.payload, command.payloadLength);
    if (payload.empty()) payload = "null";
    if (telly::copyString(result, resultCap, payload.c_str())) return true;
    telly::copyString(reason, reasonCap, "the payload is too large to echo");
    return false;
  }

 private:
  MQTTClient client_;
};

[[noreturn]] void usage(const char* why) {
  fprintf(stderr, "telly-device: %s\n(see the comment at the top of host/telly_device.cpp)\n", why);
  exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, bootstrapFile, channelName, thing, key, channel;
  long intervalMs = 10000;
  long samples = -1;
  uint32_t bootId = hardwareRandom();
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing the value of " + arg).c_str());
    std::string value = argv[++i];
    if (arg == "--url") url = value;
    else if (arg == "--bootstrap") bootstrapFile = value;
    else if (arg == "--channel-name") channelName = value;
    else if (arg == "--thing") thing = value;
    else if (arg == "--key") key = value;
    else if (arg == "--channel") channel = value;
    else if (arg == "--interval-ms") intervalMs = strtol(value.c_str(), nullptr, 10);
    else if (arg == "--samples") samples = strtol(value.c_str(), nullptr, 10);
    else if (arg == "--boot-id") bootId = static_cast<uint32_t>(strtoul(value.c_str(), nullptr, 16));
    else usage(("unknown option " + arg).c_str());
  }
  if (url.empty()) usage("--url is required");
  if (intervalMs < 10) usage("--interval-ms must be at least 10");

  telly::Credentials credentials;
  memset(&credentials, 0, sizeof credentials);
  if (!bootstrapFile.empty()) {
    std::ifstream in(bootstrapFile);
    std::stringstream body;
    body << in.rdbuf();
    std::string text = body.str();
    char error[128];
    if (!in || !telly::parseBootstrap(text.data(), text.size(), channelName.c_str(), credentials, error, sizeof error)) {
      fprintf(stderr, "telly-device: bootstrap: %s\n", in ? error : "cannot read the file");
      return 1;
    }
  } else {
    if (thing.empty() || key.empty() || channel.empty()) usage("give --bootstrap FILE, or --thing, --key and --channel");
    if (!telly::copyString(credentials.thingId, sizeof credentials.thingId, thing.c_str()) ||
        !telly::copyString(credentials.key, sizeof credentials.key, key.c_str()) ||
        !telly::copyString(credentials.channelId, sizeof credentials.channelId, channel.c_str())) {
      usage("--thing, --key or --channel is too long");
    }
  }

  signal(SIGINT, onSignal);
  signal(SIGTERM, onSignal);

  MQTTClient client;
  // the client id is the thing id: the bridge keeps the persistent session under it
  if (MQTTClient_create(&client, url.c_str(), credentials.thingId, MQTTCLIENT_PERSISTENCE_NONE, nullptr) !=
      MQTTCLIENT_SUCCESS) {
    fprintf(stderr, "telly-device: bad --url %s\n", url.c_str());
    return 1;
  }
  Inbox inbox;
  MQTTClient_setCallbacks(client, &inbox, onLost, onMessage, onDelivered);
  HostIo io(client);
  telly::Device device(io, credentials, bootId, hardwareRandom());
  fprintf(stderr, "[telly] boot %08x, thing %s, channel %s\n", bootId, credentials.thingId, credentials.channelId);

  uint32_t nextAttempt = monotonicMs();
  uint32_t nextSample = monotonicMs();
  double temperature = 21.0;
  double humidity = 45.0;
  int32_t soil = 600;
  uint32_t jitter = hardwareRandom();
  while (!stopping) {
    uint32_t now = monotonicMs();
    if (!device.isConnected() && static_cast<int32_t>(now - nextAttempt) >= 0) {
      MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
      opts.keepAliveInterval = 20;
      opts.cleansession = 0;
      opts.username = credentials.thingId;
      opts.password = credentials.key;
      opts.connectTimeout = 5;
      opts.retryInterval = 0;
      opts.MQTTVersion = MQTTVERSION_3_1_1;
      // what Paho holds unacked before it connects, it resends itself once connected (same
      // packet id, deduplicated by the bridge); asked after the connect, a resend already acked
      // would look like nothing kept, and the outbox would send it a second time
      MQTTClient_deliveryToken* pending = nullptr;
      MQTTClient_getPendingDeliveryTokens(client, &pending);
      bool kept = pending != nullptr && pending[0] != -1;
      if (pending) MQTTClient_free(pending);
      int rc = MQTTClient_connect(client, &opts);
      if (rc == MQTTCLIENT_SUCCESS &&
          MQTTClient_subscribe(client, device.commandsTopic(), 1) == MQTTCLIENT_SUCCESS) {
        device.connected(kept);
      } else {
        uint32_t delay = device.reconnectDelayMs();
        fprintf(stderr, "[telly] mqtt connect failed (%d), next attempt in %u ms\n", rc, delay);
        if (rc == MQTTCLIENT_SUCCESS) MQTTClient_disconnect(client, 0);
        nextAttempt = now + delay;
      }
    }
    Event e;
    while (inbox.pop(e)) {
      if (e.kind == Event::Message) device.message(e.topic.c_str(), e.payload.data(), e.payload.size());
      else if (e.kind == Event::Delivered) device.delivered(e.token);
      else {
        device.disconnected();
        nextAttempt = monotonicMs() + device.reconnectDelayMs();
      }
    }
    if (samples != 0 && static_cast<int32_t>(now - nextSample) >= 0) {
      // a random walk, as the simulator's board does
      jitter = jitter * 1664525u + 1013904223u;
      temperature += (static_cast<double>(jitter % 1000) / 1000.0 - 0.5) * 0.4;
      humidity += (static_cast<double>((jitter >> 10) % 1000) / 1000.0 - 0.5);
      soil += static_cast<int32_t>((jitter >> 20) % 5) - 2;
      device.sample(static_cast<float>(temperature), static_cast<float>(humidity), soil);
      if (samples > 0) samples--;
      nextSample = now + static_cast<uint32_t>(intervalMs);
    }
    device.loop();
    usleep(10000);
  }
  fprintf(stderr, "[telly] stopping: %zu messages still waiting, %u dropped\n", device.waiting(), device.dropped());
  if (device.isConnected()) MQTTClient_disconnect(client, 1000);
  MQTTClient_destroy(&client);
  return 0;
}
