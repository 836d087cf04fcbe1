#include "telly/bootstrap.h"

#include <string.h>

#include "telly/json.h"

namespace telly {

size_t bootstrapPath(char* out, size_t cap, const char* externalId) {
  static const char kHex[] = "0123456789ABCDEF";
  JsonWriter w(out, cap);
  w.raw("/things/bootstrap/");
  for (const char* p = externalId; *p; p++) {
    unsigned char c = static_cast<unsigned char>(*p);
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.' || c == '~' || c == ':';
    if (plain) {
      w.raw(reinterpret_cast<const char*>(p), 1);
    } else {
      char enc[3] = {'%', kHex[c >> 4], kHex[c & 0xF]};
      w.raw(enc, 3);
    }
  }
  return w.ok() && externalId[0] != '\0' ? w.length() : 0;
}

size_t bootstrapAuthorization(char* out, size_t cap, const char* externalKey) {
  JsonWriter w(out, cap);
  w.raw("Thing ").raw(externalKey);
  return w.ok() ? w.length() : 0;
}

bool parseBootstrap(const char* json, size_t length, const char* channelName, Credentials& out, char* error,
                    size_t errorCap) {
  static JsonDoc doc;
  static char name[201];
  memset(&out, 0, sizeof out);
  copyString(error, errorCap, "");
  if (!jsonParse(doc, json, length) || !jsonIsObject(doc, 0)) {
    copyString(error, errorCap, "the bootstrap answer is not a JSON object (or too large)");
    return false;
  }
  if (!jsonString(doc, jsonFind(doc, 0, "id"), out.thingId, sizeof out.thingId) || !out.thingId[0]) {
    copyString(error, errorCap, "the bootstrap answer has no thing id");
    return false;
  }
  if (!jsonString(doc, jsonFind(doc, 0, "key"), out.key, sizeof out.key) || !out.key[0]) {
    copyString(error, errorCap, "the bootstrap answer has no thing key (or one over 127 bytes)");
    return false;
  }
  int channels = jsonFind(doc, 0, "channels");
  if (channels < 0 || doc.tokens[channels].type != JSMN_ARRAY || doc.tokens[channels].size == 0) {
    copyString(error, errorCap, "the thing is connected to no channel: connect it, then bootstrap again");
    return false;
  }
  bool wanted = channelName != nullptr && channelName[0] != '\0';
  int channel = channels + 1;
  for (int k = 0; k < doc.tokens[channels].size; k++, channel = jsonNext(doc, channel)) {
    if (!jsonIsObject(doc, channel)) continue;
    if (wanted && !(jsonString(doc, jsonFind(doc, channel, "name"), name, sizeof name) &&
                    strcmp(name, channelName) == 0)) {
      continue;
    }
    if (jsonString(doc, jsonFind(doc, channel, "id"), out.channelId, sizeof out.channelId) &&
        out.channelId[0]) {
      return true;
    }
  }
  copyString(error, errorCap, wanted ? "the thing is not connected to the configured channel"
                                     : "the bootstrap answer's channels have no id");
  return false;
}

}  // namespace telly
