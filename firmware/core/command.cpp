#include "telly/command.h"

#include <string.h>

#include "telly/json.h"

namespace telly {

static void say(char* reason, size_t cap, const char* text) { copyString(reason, cap, text); }

// {"seconds": N} or N, as the duration of an ON; `present` false when neither is there.
static bool readSeconds(const JsonDoc& doc, int value, bool* present, uint32_t* seconds) {
  *present = false;
  if (value < 0) return true;
  int field = jsonIsObject(doc, value) ? jsonFind(doc, value, "seconds") : value;
  if (field < 0) return true;
  int64_t n = 0;
  if (!jsonInteger(doc, field, 1, kMaxOnSeconds, &n)) return false;
  *present = true;
  *seconds = static_cast<uint32_t>(n);
  return true;
}

CommandError parseCommand(const char* json, size_t length, Command& out, char* reason, size_t reasonCap) {
  static JsonDoc doc;  // 1.5 KB of tokens: static, not on the ESP8266's 4 KB stack
  memset(&out, 0, sizeof out);
  out.payload = "";
  say(reason, reasonCap, "");
  if (!jsonParse(doc, json, length) || !jsonIsObject(doc, 0)) {
    say(reason, reasonCap, "not a JSON object");
    return CommandError::Unreadable;
  }
  int id = jsonFind(doc, 0, "id");
  if (!jsonString(doc, id, out.id, sizeof out.id) || out.id[0] == '\0') {
    say(reason, reasonCap, "no command id");
    return CommandError::Unreadable;
  }
  int name = jsonFind(doc, 0, "name");
  if (!jsonString(doc, name, out.name, sizeof out.name) || out.name[0] == '\0') {
    say(reason, reasonCap, "the command has no name (or one over 47 bytes)");
    return CommandError::Invalid;
  }
  int payload = jsonFind(doc, 0, "payload");
  if (payload >= 0) out.payload = jsonRaw(doc, payload, &out.payloadLength);
  if (payload >= 0 && doc.tokens[payload].type == JSMN_PRIMITIVE && out.payloadLength == 4 &&
      memcmp(out.payload, "null", 4) == 0) {
    payload = -1;
  }

  bool on;
  int duration = -1;  // the token holding the seconds, if any
  if (jsonStringIs(doc, name, "on") || jsonStringIs(doc, name, "off")) {
    on = jsonStringIs(doc, name, "on");
    if (on) duration = payload;
  } else if (jsonStringIs(doc, name, "led")) {
    int state = payload;
    if (jsonIsObject(doc, payload)) {
      state = jsonFind(doc, payload, "state");
      duration = payload;
    }
    if (jsonStringIs(doc, state, "on")) {
      on = true;
    } else if (jsonStringIs(doc, state, "off")) {
      on = false;
      duration = -1;
    } else {
      say(reason, reasonCap, "led needs \"ON\", \"OFF\" or {\"state\": \"ON\"|\"OFF\", \"seconds\": N}");
      return CommandError::Invalid;
    }
  } else {
    out.action = Action::Other;
    return CommandError::None;
  }

  if (!on) {
    out.action = Action::LedOff;
    return CommandError::None;
  }
  bool timed = false;
  if (!readSeconds(doc, duration, &timed, &out.seconds)) {
    say(reason, reasonCap, "seconds must be a whole number from 1 to 86400");
    return CommandError::Invalid;
  }
  out.action = timed ? Action::LedOnFor : Action::LedOn;
  return CommandError::None;
}

size_t commandsTopic(char* out, size_t cap, const char* thingId) {
  JsonWriter w(out, cap);
  w.raw("things/").raw(thingId).raw("/commands");
  return w.ok() ? w.length() : 0;
}

size_t resultTopic(char* out, size_t cap, const char* thingId, const char* commandId) {
  // an MQTT topic level cannot hold these: such an id cannot have a result topic
  if (strpbrk(commandId, "/+#") != nullptr) return 0;
  JsonWriter w(out, cap);
  w.raw("things/").raw(thingId).raw("/commands/").raw(commandId).raw("/result");
  return w.ok() ? w.length() : 0;
}

size_t encodeSucceeded(char* out, size_t cap, const char* resultJson) {
  JsonWriter w(out, cap);
  w.raw("{\"status\":\"succeeded\",\"result\":").raw(resultJson ? resultJson : "null").raw("}");
  return w.ok() ? w.length() : 0;
}

size_t encodeFailed(char* out, size_t cap, const char* reason) {
  JsonWriter w(out, cap);
  w.raw("{\"status\":\"failed\",\"reason\":").str(reason).raw("}");
  return w.ok() ? w.length() : 0;
}

}  // namespace telly
