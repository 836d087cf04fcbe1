// jsmn's implementation is compiled here once (strict mode: primitives must be JSON literals).
#define JSMN_STRICT
#include "jsmn.h"
// the header above already defined the tokenizer; json.h's JSMN_HEADER include is then a no-op
#include "telly/json.h"

#include <string.h>

namespace telly {

bool jsonParse(JsonDoc& doc, const char* text, size_t length) {
  jsmn_parser parser;
  jsmn_init(&parser);
  doc.text = text;
  doc.length = length;
  doc.count = jsmn_parse(&parser, text, length, doc.tokens, JsonDoc::kMaxTokens);
  if (doc.count < 1) return false;
  // jsmn tokenizes a prefix: the first token must span the whole text (bar whitespace)
  for (size_t i = static_cast<size_t>(doc.tokens[0].end); i < length; i++) {
    char c = text[i];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return false;
  }
  return true;
}

int jsonNext(const JsonDoc& doc, int i) {
  if (i < 0 || i >= doc.count) return doc.count;
  int next = i + 1;
  for (int child = 0; child < doc.tokens[i].size; child++) next = jsonNext(doc, next);
  return next;
}

int jsonFind(const JsonDoc& doc, int object, const char* key) {
  if (!jsonIsObject(doc, object)) return -1;
  size_t keyLength = strlen(key);
  int i = object + 1;
  for (int k = 0; k < doc.tokens[object].size && i < doc.count; k++) {
    const jsmntok_t& t = doc.tokens[i];
    if (t.type == JSMN_STRING && static_cast<size_t>(t.end - t.start) == keyLength &&
        memcmp(doc.text + t.start, key, keyLength) == 0 && i + 1 < doc.count) {
      return i + 1;
    }
    i = jsonNext(doc, i);  // the key and its value
  }
  return -1;
}

bool jsonIsString(const JsonDoc& doc, int i) {
  return i >= 0 && i < doc.count && doc.tokens[i].type == JSMN_STRING;
}

bool jsonIsObject(const JsonDoc& doc, int i) {
  return i >= 0 && i < doc.count && doc.tokens[i].type == JSMN_OBJECT;
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool jsonStringIs(const JsonDoc& doc, int i, const char* s) {
  if (!jsonIsString(doc, i)) return false;
  const jsmntok_t& t = doc.tokens[i];
  size_t n = strlen(s);
  if (static_cast<size_t>(t.end - t.start) != n) return false;
  for (size_t k = 0; k < n; k++) {
    if (lower(doc.text[t.start + k]) != lower(s[k])) return false;
  }
  return true;
}

static int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool jsonString(const JsonDoc& doc, int i, char* out, size_t cap) {
  if (cap == 0) return false;
  out[0] = '\0';
  if (!jsonIsString(doc, i)) return false;
  const jsmntok_t& t = doc.tokens[i];
  size_t o = 0;
  auto emit = [&](char c) {
    if (o + 1 >= cap) return false;
    out[o++] = c;
    return true;
  };
  for (int k = t.start; k < t.end; k++) {
    char c = doc.text[k];
    bool fits = true;
    if (c != '\\') {
      fits = emit(c);
    } else {
      if (++k >= t.end) return false;
      switch (doc.text[k]) {
        case '"': fits = emit('"'); break;
        case '\\': fits = emit('\\'); break;
        case '/': fits = emit('/'); break;
        case 'b': fits = emit('\b'); break;
        case 'f': fits = emit('\f'); break;
        case 'n': fits = emit('\n'); break;
        case 'r': fits = emit('\r'); break;
        case 't': fits = emit('\t'); break;
        case 'u': {
          if (k + 4 >= t.end) return false;
          uint32_t cp = 0;
          for (int h = 1; h <= 4; h++) {
            int v = hexValue(doc.text[k + h]);
            if (v < 0) return false;
            cp = cp * 16 + static_cast<uint32_t>(v);
          }
          k += 4;
          if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // surrogates: not needed by the device
          if (cp == 0) return false;                       // no NUL inside a C string
          if (cp < 0x80) {
            fits = emit(static_cast<char>(cp));
          } else if (cp < 0x800) {
            fits = emit(static_cast<char>(0xC0 | (cp >> 6))) && emit(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            fits = emit(static_cast<char>(0xE0 | (cp >> 12))) &&
                   emit(static_cast<char>(0x80 | ((cp >> 6) & 0x3F))) &&
                   emit(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default: return false;
      }
    }
    if (!fits) {
      out[0] = '\0';
      return false;
    }
  }
  out[o] = '\0';
  return true;
}

bool jsonInteger(const JsonDoc& doc, int i, int64_t min, int64_t max, int64_t* out) {
  if (i < 0 || i >= doc.count || doc.tokens[i].type != JSMN_PRIMITIVE) return false;
  const jsmntok_t& t = doc.tokens[i];
  int k = t.start;
  bool negative = doc.text[k] == '-';
  if (negative) k++;
  if (k >= t.end) return false;
  int64_t value = 0;
  for (; k < t.end; k++) {
    char c = doc.text[k];
    if (c < '0' || c > '9') return false;  // fractions, exponents, literals: not a whole number
    if (value > (INT64_MAX - (c - '0')) / 10) return false;
    value = value * 10 + (c - '0');
  }
  if (negative) value = -value;
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

const char* jsonRaw(const JsonDoc& doc, int i, size_t* length) {
  if (i < 0 || i >= doc.count) {
    *length = 0;
    return "";
  }
  const jsmntok_t& t = doc.tokens[i];
  int start = t.start;
  int end = t.end;
  if (t.type == JSMN_STRING) {  // jsmn's string token excludes the quotes
    start--;
    end++;
  }
  *length = static_cast<size_t>(end - start);
  return doc.text + start;
}

JsonWriter::JsonWriter(char* buffer, size_t capacity) : buffer_(buffer), capacity_(capacity), ok_(capacity > 0) {
  if (ok_) buffer_[0] = '\0';
}

void JsonWriter::put(char c) {
  if (!ok_) return;
  if (length_ + 1 >= capacity_) {
    ok_ = false;
    buffer_[0] = '\0';
    return;
  }
  buffer_[length_++] = c;
  buffer_[length_] = '\0';
}

JsonWriter& JsonWriter::raw(const char* s) { return raw(s, strlen(s)); }

JsonWriter& JsonWriter::raw(const char* s, size_t n) {
  for (size_t k = 0; k < n; k++) put(s[k]);
  return *this;
}

JsonWriter& JsonWriter::str(const char* s) {
  static const char kHex[] = "0123456789abcdef";
  put('"');
  for (const char* p = s; *p; p++) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      put('\\');
      put(static_cast<char>(c));
    } else if (c == '\n') {
      raw("\\n");
    } else if (c < 0x20) {
      raw("\\u00");
      put(kHex[c >> 4]);
      put(kHex[c & 0xF]);
    } else {
      put(static_cast<char>(c));
    }
  }
  put('"');
  return *this;
}

JsonWriter& JsonWriter::integer(int64_t v) {
  char digits[21];
  int n = 0;
  uint64_t magnitude = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  do {
    digits[n++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude > 0);
  if (v < 0) put('-');
  while (n > 0) put(digits[--n]);
  return *this;
}

JsonWriter& JsonWriter::fixed(int64_t scaled, unsigned decimals) {
  int64_t divisor = 1;
  for (unsigned d = 0; d < decimals; d++) divisor *= 10;
  uint64_t magnitude = scaled < 0 ? static_cast<uint64_t>(-(scaled + 1)) + 1 : static_cast<uint64_t>(scaled);
  uint64_t whole = magnitude / static_cast<uint64_t>(divisor);
  uint64_t fraction = magnitude % static_cast<uint64_t>(divisor);
  if (scaled < 0) put('-');
  integer(static_cast<int64_t>(whole));
  // trailing zeros dropped: 21.50 → 21.5, 22.0 → 22 (the same number, fewer bytes)
  unsigned keep = decimals;
  while (keep > 0 && fraction % 10 == 0) {
    fraction /= 10;
    keep--;
  }
  if (keep > 0) {
    put('.');
    char digits[20];
    for (unsigned d = 0; d < keep; d++) {
      digits[keep - 1 - d] = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
    raw(digits, keep);
  }
  return *this;
}

bool copyString(char* out, size_t cap, const char* s) {
  if (cap == 0) return false;
  size_t n = strlen(s);
  if (n + 1 > cap) {
    out[0] = '\0';
    return false;
  }
  memcpy(out, s, n + 1);
  return true;
}

}  // namespace telly
