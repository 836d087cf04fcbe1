// The offline buffer: encoded messages waiting for the platform's acknowledgement (PUBACK), in
// the order they were made. Bounded: when full, the oldest is dropped (and counted) to make room,
// so after a long outage the device sends the newest `Slots` readings, oldest first.
//
// One message is in flight at a time, so the platform stores them in order. A message stays at
// the head until `acknowledge` names its token; after a lost connection `resendInFlight` makes it
// go out again unless the MQTT client resends it itself (a persistent session keeps it).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace telly {

template <size_t Slots, size_t SlotBytes>
class Outbox {
 public:
  struct Entry {
    uint32_t seq;
    uint16_t length;
    char bytes[SlotBytes];
  };

  /** Copies the message in; false (nothing stored) when it is longer than a slot. */
  bool push(uint32_t seq, const char* bytes, size_t length) {
    if (length >= SlotBytes || length == 0) return false;
    if (count_ == Slots) {
      if (inFlight_) inFlight_ = false;  // the head goes; its acknowledgement no longer matters
      head_ = (head_ + 1) % Slots;
      count_--;
      dropped_++;
    }
    Entry& e = entries_[(head_ + count_) % Slots];
    e.seq = seq;
    e.length = static_cast<uint16_t>(length);
    memcpy(e.bytes, bytes, length);
    e.bytes[length] = '\0';
    count_++;
    return true;
  }

  /** The oldest message, if one is waiting and none is in flight. */
  const Entry* next() const { return count_ > 0 && !inFlight_ ? &entries_[head_] : nullptr; }
  const Entry* head() const { return count_ > 0 ? &entries_[head_] : nullptr; }

  /** The head was handed to the client, which will confirm it as `token`. */
  void sent(int token) {
    if (count_ == 0) return;
    inFlight_ = true;
    token_ = token;
  }

  /** The platform acknowledged `token`: the head is done. False for any other token. */
  bool acknowledge(int token) {
    if (!inFlight_ || token != token_) return false;
    inFlight_ = false;
    head_ = (head_ + 1) % Slots;
    count_--;
    return true;
  }

  /** The connection dropped and the client will not resend the head: send it again. */
  void resendInFlight() { inFlight_ = false; }

  bool inFlight() const { return inFlight_; }
  int token() const { return token_; }
  size_t size() const { return count_; }
  static constexpr size_t capacity() { return Slots; }
  uint32_t dropped() const { return dropped_; }

 private:
  Entry entries_[Slots];
  size_t head_ = 0;
  size_t count_ = 0;
  bool inFlight_ = false;
  int token_ = 0;
  uint32_t dropped_ = 0;
};

}  // namespace telly
