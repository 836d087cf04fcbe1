// A thin layer over jsmn (a tokenizer, no allocation): find a key, read a string or an integer,
// and write JSON with escaping, into caller-owned buffers. Nothing here allocates.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define JSMN_HEADER
#include "jsmn.h"

namespace telly {

/** Tokens of one parsed document; `count` < 0 is jsmn's error (JSMN_ERROR_*). */
struct JsonDoc {
  static constexpr int kMaxTokens = 96;
  const char* text = nullptr;
  size_t length = 0;
  jsmntok_t tokens[kMaxTokens];
  int count = 0;
};

/** Parses `text`; false when it is not JSON or has more than kMaxTokens tokens. */
bool jsonParse(JsonDoc& doc, const char* text, size_t length);
/** Index of the token after token `i` and everything nested in it. */
int jsonNext(const JsonDoc& doc, int i);
/** Index of the value of `key` in object token `object`, or -1. */
int jsonFind(const JsonDoc& doc, int object, const char* key);
bool jsonIsString(const JsonDoc& doc, int i);
bool jsonIsObject(const JsonDoc& doc, int i);
/** Whether string token `i` equals `s` (compared raw, without unescaping), ASCII case-insensitive. */
bool jsonStringIs(const JsonDoc& doc, int i, const char* s);
/** Unescapes string token `i` into `out` (NUL-terminated); false if it does not fit or is bad. */
bool jsonString(const JsonDoc& doc, int i, char* out, size_t cap);
/** A whole number (primitive token), within [min, max]. */
bool jsonInteger(const JsonDoc& doc, int i, int64_t min, int64_t max, int64_t* out);
/** The token's raw text (a string's includes its quotes). */
const char* jsonRaw(const JsonDoc& doc, int i, size_t* length);

/** Appends to a fixed buffer; once something did not fit, `ok()` stays false. */
class JsonWriter {
 public:
  JsonWriter(char* buffer, size_t capacity);
  JsonWriter& raw(const char* s);
  JsonWriter& raw(const char* s, size_t n);
  /** A JSON string, quoted and escaped. */
  JsonWriter& str(const char* s);
  JsonWriter& integer(int64_t v);
  /** `scaled` / 10^decimals as a JSON number, e.g. (215, 1) → 21.5. */
  JsonWriter& fixed(int64_t scaled, unsigned decimals);
  bool ok() const { return ok_; }
  size_t length() const { return length_; }
  /** The text written so far, NUL-terminated (empty when it did not fit). */
  const char* c_str() const { return ok_ ? buffer_ : ""; }

 private:
  void put(char c);
  char* buffer_;
  size_t capacity_;
  size_t length_ = 0;
  bool ok_;
};

/** Copies `s` into `out` (NUL-terminated); false, and `out` empty, when it does not fit. */
bool copyString(char* out, size_t cap, const char* s);

}  // namespace telly
