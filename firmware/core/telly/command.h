// Telly commands as a device receives them on things/{thing}/commands —
// {"id","name","payload","expiresAt"} (docs/devices.md) — and the results it reports on
// things/{thing}/commands/{id}/result.
//
// The LED understands (names ASCII case-insensitive):
//   name "on" | "off"                       payload ignored, except on's {"seconds": N} or N
//   name "led", payload "ON" | "OFF"        or {"state": "ON"|"OFF", "seconds": N}
// "ON for N seconds" turns the LED off N seconds later by the device's own clock (1 ≤ N ≤ 86400),
// whether or not the platform is reachable then. Any other name is Action::Other, its payload
// kept raw for the application to handle.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace telly {

enum class Action : uint8_t { LedOn, LedOff, LedOnFor, Other };

constexpr uint32_t kMaxOnSeconds = 86400;

struct Command {
  char id[64];
  char name[48];
  Action action;
  /** For LedOnFor. */
  uint32_t seconds;
  /** The raw JSON of `payload` (points into the parsed text), or empty when there was none. */
  const char* payload;
  size_t payloadLength;
};

enum class CommandError : uint8_t {
  None,
  /** Not a JSON object, or no usable "id": nothing can be reported, the command is dropped. */
  Unreadable,
  /** Readable (the id is set) but its name or payload is wrong: report it as failed. */
  Invalid,
};

/**
 * Parses one command. On Invalid, `reason` says what is wrong (for the failed result). The
 * command's `payload` points into `json`, which must outlive it.
 */
CommandError parseCommand(const char* json, size_t length, Command& out, char* reason, size_t reasonCap);

/** things/{thing}/commands */
size_t commandsTopic(char* out, size_t cap, const char* thingId);
/** things/{thing}/commands/{command}/result */
size_t resultTopic(char* out, size_t cap, const char* thingId, const char* commandId);
/** {"status":"succeeded","result":<resultJson>} — `resultJson` raw JSON, nullptr for null. */
size_t encodeSucceeded(char* out, size_t cap, const char* resultJson);
/** {"status":"failed","reason":"…"} */
size_t encodeFailed(char* out, size_t cap, const char* reason);

}  // namespace telly
