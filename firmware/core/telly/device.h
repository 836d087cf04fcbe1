// The device's behaviour, independent of the board: what it publishes where, what it does with
// a command, when it reconnects. The sketch (ESP8266) and the host program (POSIX + Paho) only
// move bytes and pins through DeviceIo and call these methods from their loop.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "telly/backoff.h"
#include "telly/bootstrap.h"
#include "telly/command.h"
#include "telly/outbox.h"
#include "telly/senml.h"
#include "telly/sensors.h"
#include "telly/timed_switch.h"

namespace telly {

/** What became of a publish: not sent, sent (PUBACK to come, as `token`), or already PUBACKed. */
enum class Published : uint8_t { Failed, Pending, Acknowledged };

class DeviceIo {
 public:
  /**
   * Publishes at QoS 1. A client that waits for the PUBACK returns Acknowledged; one that does
   * not returns Pending and sets `token`, and `Device::delivered(token)` follows on PUBACK.
   */
  virtual Published publish(const char* topic, const char* payload, size_t length, int* token) = 0;
  virtual void setLed(bool on) = 0;
  virtual void log(const char* line) = 0;
  virtual uint32_t nowMs() = 0;
  /** Wall-clock time in ms since the epoch, 0 while it is not known (no NTP yet). */
  virtual uint64_t epochMs() = 0;
  /**
   * A command the device itself does not know (Action::Other): write its result JSON and return
   * true, or write a reason and return false. By default every such command fails.
   */
  virtual bool handle(const Command& command, char* result, size_t resultCap, char* reason, size_t reasonCap);

 protected:
  ~DeviceIo() = default;
};

struct DeviceOptions {
  /** Appended to channels/{channel}/messages, e.g. "esp" → …/messages/esp; empty for none. */
  const char* subtopic = "";
  Dht11Limits dht;
  SoilCalibration soil;
  uint32_t backoffBaseMs = 1000;
  uint32_t backoffCapMs = 60000;
};

class Device {
 public:
  static constexpr size_t kOutboxSlots = 24;
  static constexpr size_t kTopicBytes = 112;
  static constexpr size_t kPayloadBytes = 320;

  Device(DeviceIo& io, const Credentials& credentials, uint32_t bootId, uint32_t randomSeed,
         const DeviceOptions& options = {});

  const char* commandsTopic() const { return commandsTopic_; }
  const char* messagesTopic() const { return messagesTopic_; }
  const char* thingId() const { return credentials_.thingId; }
  const Credentials& credentials() const { return credentials_; }

  /** The MQTT session is up; `sessionKept`: the client itself resends what was in flight. */
  void connected(bool sessionKept);
  void disconnected();
  bool isConnected() const { return connected_; }
  /** How long to wait before the next connection attempt (backoff with jitter). */
  uint32_t reconnectDelayMs();

  /**
   * One sample of the board: DHT11 temperature/humidity (NaN when the read failed) and the raw
   * soil ADC value (negative: no probe). Queues one SenML pack.
   */
  void sample(float celsius, float humidity, int32_t soilRaw);
  /** A message that arrived on a subscribed topic. */
  void message(const char* topic, const char* payload, size_t length);
  /** The platform acknowledged `token`. */
  void delivered(int token);
  /** Call often: ends a timed ON when due, sends the next waiting message. */
  void loop();

  bool ledOn() const { return led_.on(); }
  size_t waiting() const { return outbox_.size(); }
  uint32_t dropped() const { return outbox_.dropped(); }
  uint32_t lastSeq() const { return seq_; }

 private:
  struct Seen {
    char id[64];
  };
  bool enqueue(const char* topic, const char* payload, size_t length);
  void queueLedState();
  void report(const char* commandId, bool ok, const char* resultOrReason);
  void applyLed(const Command& command);
  bool seen(const char* commandId);
  void logf(const char* a, const char* b = "", const char* c = "", const char* d = "");
  MessageId nextId();

  DeviceIo& io_;
  Credentials credentials_;
  DeviceOptions options_;
  uint32_t bootId_;
  uint32_t seq_ = 0;
  Random random_;
  Backoff backoff_;
  Dht11Check dht_;
  TimedSwitch led_;
  bool connected_ = false;
  char commandsTopic_[kTopicBytes];
  char messagesTopic_[kTopicBytes];
  Seen recent_[8];
  size_t recentNext_ = 0;

  // a slot holds "topic\0payload": one ring buffer for readings and command results alike
  Outbox<kOutboxSlots, kTopicBytes + kPayloadBytes> outbox_;
};

}  // namespace telly
