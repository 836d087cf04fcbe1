// An output (the LED) that can be on, off, or on until a deadline kept by the device's own
// millisecond clock (wrap-safe: millis() wraps every 49.7 days).
#pragma once
#include <stdint.h>

namespace telly {

class TimedSwitch {
 public:
  void turnOn(uint32_t nowMs) { on_ = true, timed_ = false, (void)nowMs; }
  void turnOff() { on_ = false, timed_ = false; }
  /** On for `seconds` (≤ 86400) from `nowMs`; a later command replaces the deadline. */
  void turnOnFor(uint32_t seconds, uint32_t nowMs) {
    on_ = true;
    timed_ = true;
    offAtMs_ = nowMs + seconds * 1000u;
  }
  /** Turns off a timed ON whose deadline passed; true exactly when it did so now. */
  bool expire(uint32_t nowMs) {
    if (!timed_ || static_cast<int32_t>(nowMs - offAtMs_) < 0) return false;
    turnOff();
    return true;
  }
  bool on() const { return on_; }
  bool timed() const { return timed_; }
  /** Milliseconds until a timed ON ends (0 when not timed). */
  uint32_t remainingMs(uint32_t nowMs) const {
    if (!timed_) return 0;
    int32_t left = static_cast<int32_t>(offAtMs_ - nowMs);
    return left > 0 ? static_cast<uint32_t>(left) : 0;
  }

 private:
  bool on_ = false;
  bool timed_ = false;
  uint32_t offAtMs_ = 0;
};

}  // namespace telly
