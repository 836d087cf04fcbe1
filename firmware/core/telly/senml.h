// SenML JSON packs (RFC 8428) of the board's readings, as Telly stores them: one pack per
// message, the base time on the first record, and the message id as the extension field `mid`
// (Telly ignores it; it makes every message's bytes unique, so a QoS 1 retransmission with the
// same packet id is deduplicated by the bridge, and the serial log and the pack name the same id).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace telly {

/** `<boot>-<seq>`: a random 32-bit boot id drawn at start, then 1, 2, 3… per message. */
struct MessageId {
  uint32_t boot = 0;
  uint32_t seq = 0;
  /** Writes e.g. "1a2b3c4d-17" (NUL-terminated); needs 20 bytes. */
  void format(char* out, size_t cap) const;
};

/** One record: a number with a fixed number of decimals, or a string (`vs`). */
struct SenmlRecord {
  const char* name;
  const char* unit;  // nullptr: none
  int64_t scaled;    // value × 10^decimals
  uint8_t decimals;
  const char* text;  // when set, the record is {"n","vs"} and `scaled` is ignored
};

/** A number rounded to `decimals` places, as a record value (e.g. 21.46, 1 → 215). */
int64_t scaleValue(float value, uint8_t decimals);

/**
 * Writes the pack: `[{"mid":…,"bt":…,"n":…,"u":…,"v":…},{"n":…}…]`. `epochMs` 0 leaves the base
 * time out (Telly then stamps it with the time it received the message). Returns the length, 0
 * when the pack does not fit into `cap` bytes.
 */
size_t encodePack(char* out, size_t cap, const MessageId& id, uint64_t epochMs, const SenmlRecord* records,
                  size_t count);

}  // namespace telly
