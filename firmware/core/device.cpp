#include "telly/device.h"

#include <string.h>

#include "telly/json.h"

namespace telly {

bool DeviceIo::handle(const Command& command, char* result, size_t resultCap, char* reason, size_t reasonCap) {
  (void)result;
  (void)resultCap;
  JsonWriter w(reason, reasonCap);
  w.raw("unknown command ").raw(command.name);
  return false;
}

Device::Device(DeviceIo& io, const Credentials& credentials, uint32_t bootId, uint32_t randomSeed,
               const DeviceOptions& options)
    : io_(io),
      credentials_(credentials),
      options_(options),
      bootId_(bootId),
      random_(randomSeed),
      backoff_(options.backoffBaseMs, options.backoffCapMs),
      dht_(options.dht) {
  memset(recent_, 0, sizeof recent_);
  telly::commandsTopic(commandsTopic_, sizeof commandsTopic_, credentials_.thingId);
  JsonWriter w(messagesTopic_, sizeof messagesTopic_);
  w.raw("channels/").raw(credentials_.channelId).raw("/messages");
  if (options_.subtopic && options_.subtopic[0]) w.raw("/").raw(options_.subtopic);
}

void Device::logf(const char* a, const char* b, const char* c, const char* d) {
  char line[400];
  JsonWriter w(line, sizeof line);
  w.raw(a).raw(b).raw(c).raw(d);
  io_.log(w.ok() ? line : a);
}

MessageId Device::nextId() {
  MessageId id;
  id.boot = bootId_;
  id.seq = ++seq_;
  return id;
}

void Device::connected(bool sessionKept) {
  connected_ = true;
  backoff_.reset();
  // a clean session forgot the message in flight: it goes out again (a persistent one resends it
  // with its packet id, which the bridge deduplicates)
  if (!sessionKept) outbox_.resendInFlight();
  char waiting[12];
  JsonWriter(waiting, sizeof waiting).integer(static_cast<int64_t>(outbox_.size()));
  logf("mqtt connected, messages waiting: ", waiting);
}

void Device::disconnected() {
  if (connected_) logf("mqtt connection lost");
  connected_ = false;
}

uint32_t Device::reconnectDelayMs() { return backoff_.next(random_); }

bool Device::enqueue(const char* topic, const char* payload, size_t length) {
  char slot[kTopicBytes + kPayloadBytes];
  size_t topicLength = strlen(topic);
  if (topicLength + 1 + length >= sizeof slot) {
    logf("message too large for the offline buffer: ", topic);
    return false;
  }
  memcpy(slot, topic, topicLength + 1);
  memcpy(slot + topicLength + 1, payload, length);
  uint32_t dropped = outbox_.dropped();
  outbox_.push(seq_, slot, topicLength + 1 + length);
  if (outbox_.dropped() != dropped) logf("offline buffer full: dropped the oldest message");
  return true;
}

void Device::sample(float celsius, float humidity, int32_t soilRaw) {
  SenmlRecord records[5];
  size_t n = 0;
  Verdict climate = dht_.check(celsius, humidity);
  if (climate == Verdict::Ok) {
    records[n++] = {"temperature", "Cel", scaleValue(celsius, 1), 1, nullptr};
    records[n++] = {"humidity", "%RH", scaleValue(humidity, 1), 1, nullptr};
  } else {
    records[n++] = {"dht_fault", nullptr, 0, 0, verdictText(climate)};
    logf("dht11 reading refused: ", verdictText(climate));
  }
  if (soilRaw >= 0) {
    int32_t tenths = 0;
    Verdict soil = soilMoisture(static_cast<uint16_t>(soilRaw > 65535 ? 65535 : soilRaw), options_.soil, &tenths);
    if (soil == Verdict::Ok) {
      records[n++] = {"soil_moisture", "%", tenths, 1, nullptr};
    } else {
      records[n++] = {"soil_fault", nullptr, 0, 0, verdictText(soil)};
      logf("soil reading refused: ", verdictText(soil));
    }
  }
  records[n++] = {"led", nullptr, led_.on() ? 1 : 0, 0, nullptr};
  char pack[kPayloadBytes];
  MessageId id = nextId();
  size_t length = encodePack(pack, sizeof pack, id, io_.epochMs(), records, n);
  char mid[24];
  id.format(mid, sizeof mid);
  if (length == 0 || !enqueue(messagesTopic_, pack, length)) return;
  logf("reading ", mid, " queued: ", pack);
}

void Device::queueLedState() {
  SenmlRecord record = {"led", nullptr, led_.on() ? 1 : 0, 0, nullptr};
  char pack[kPayloadBytes];
  size_t length = encodePack(pack, sizeof pack, nextId(), io_.epochMs(), &record, 1);
  if (length > 0) enqueue(messagesTopic_, pack, length);
}

void Device::report(const char* commandId, bool ok, const char* resultOrReason) {
  char topic[kTopicBytes];
  char body[kPayloadBytes];
  if (resultTopic(topic, sizeof topic, credentials_.thingId, commandId) == 0) return;
  size_t length = ok ? encodeSucceeded(body, sizeof body, resultOrReason) : encodeFailed(body, sizeof body, resultOrReason);
  if (length == 0) length = encodeFailed(body, sizeof body, "the result does not fit the device's buffer");
  enqueue(topic, body, length);
  logf("command ", commandId, ok ? " succeeded: " : " failed: ", resultOrReason);
}

bool Device::seen(const char* commandId) {
  for (const Seen& s : recent_) {
    if (strcmp(s.id, commandId) == 0) return true;
  }
  copyString(recent_[recentNext_].id, sizeof recent_[recentNext_].id, commandId);
  recentNext_ = (recentNext_ + 1) % (sizeof recent_ / sizeof recent_[0]);
  return false;
}

void Device::applyLed(const Command& command) {
  char result[64];
  JsonWriter w(result, sizeof result);
  switch (command.action) {
    case Action::LedOn:
      led_.turnOn(io_.nowMs());
      w.raw("{\"led\":\"ON\"}");
      break;
    case Action::LedOff:
      led_.turnOff();
      w.raw("{\"led\":\"OFF\"}");
      break;
    case Action::LedOnFor:
      led_.turnOnFor(command.seconds, io_.nowMs());
      w.raw("{\"led\":\"ON\",\"seconds\":").integer(command.seconds).raw("}");
      break;
    case Action::Other:
      return;
  }
  io_.setLed(led_.on());
  queueLedState();
  report(command.id, true, result);
}

void Device::message(const char* topic, const char* payload, size_t length) {
  if (strcmp(topic, commandsTopic_) != 0) return;
  Command command;
  char reason[128];
  CommandError error = parseCommand(payload, length, command, reason, sizeof reason);
  if (error == CommandError::Unreadable) {
    logf("command dropped: ", reason);
    return;
  }
  // a command the platform sent again (its PUBACK was lost) is done once, and reported once
  if (seen(command.id)) {
    logf("command ", command.id, " received again: already handled");
    return;
  }
  logf("command ", command.id, ": ", command.name);
  if (error == CommandError::Invalid) {
    report(command.id, false, reason);
    return;
  }
  if (command.action != Action::Other) {
    applyLed(command);
    return;
  }
  char result[kPayloadBytes - 48];
  result[0] = '\0';
  bool ok = io_.handle(command, result, sizeof result, reason, sizeof reason);
  report(command.id, ok, ok ? (result[0] ? result : "null") : reason);
}

void Device::delivered(int token) { outbox_.acknowledge(token); }

void Device::loop() {
  if (led_.expire(io_.nowMs())) {
    io_.setLed(false);
    logf("led timer ended: LED off");
    queueLedState();
  }
  if (!connected_) return;
  const auto* next = outbox_.next();
  if (next == nullptr) return;
  const char* topic = next->bytes;
  size_t topicLength = strlen(topic);
  const char* payload = topic + topicLength + 1;
  int token = 0;
  Published published = io_.publish(topic, payload, next->length - topicLength - 1, &token);
  if (published == Published::Failed) return;
  outbox_.sent(token);
  if (published == Published::Acknowledged) outbox_.acknowledge(token);
}

}  // namespace telly
