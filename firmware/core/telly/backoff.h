// Reconnect delays: exponential from `baseMs`, capped at `capMs`, with "equal jitter" — each
// delay is drawn uniformly from [ceiling/2, ceiling] — so a fleet that lost the broker at the
// same moment does not come back at the same moment, and no delay is ever near zero.
#pragma once
#include <stdint.h>

namespace telly {

/** xorshift32: a small, seedable source of the jitter (seed it from the hardware RNG). */
class Random {
 public:
  explicit Random(uint32_t seed) : state_(seed != 0 ? seed : 0x9E3779B9u) {}
  uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

 private:
  uint32_t state_;
};

class Backoff {
 public:
  Backoff(uint32_t baseMs, uint32_t capMs) : baseMs_(baseMs), capMs_(capMs < baseMs ? baseMs : capMs) {}

  /** The delay before the next attempt; each failed attempt doubles the ceiling. */
  uint32_t next(Random& random) {
    uint32_t ceiling = ceilingMs();
    if (attempts_ < 31) attempts_++;
    uint32_t half = ceiling / 2;
    return half + random.next() % (ceiling - half + 1);
  }
  /** A connection succeeded: start again from `baseMs`. */
  void reset() { attempts_ = 0; }
  uint32_t attempts() const { return attempts_; }
  uint32_t ceilingMs() const {
    uint64_t ceiling = static_cast<uint64_t>(baseMs_) << (attempts_ < 31 ? attempts_ : 31);
    return ceiling > capMs_ ? capMs_ : static_cast<uint32_t>(ceiling);
  }

 private:
  uint32_t baseMs_;
  uint32_t capMs_;
  uint32_t attempts_ = 0;
};

}  // namespace telly
