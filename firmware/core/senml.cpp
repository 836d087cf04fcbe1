#include "telly/senml.h"

#include "telly/json.h"

namespace telly {

static const char kHex[] = "0123456789abcdef";

void MessageId::format(char* out, size_t cap) const {
  JsonWriter w(out, cap);
  char boot8[8];
  for (int i = 0; i < 8; i++) boot8[i] = kHex[(boot >> (28 - 4 * i)) & 0xF];
  w.raw(boot8, 8).raw("-").integer(seq);
}

int64_t scaleValue(float value, uint8_t decimals) {
  float scaled = value;
  for (uint8_t d = 0; d < decimals; d++) scaled *= 10.0f;
  return static_cast<int64_t>(scaled < 0 ? scaled - 0.5f : scaled + 0.5f);
}

size_t encodePack(char* out, size_t cap, const MessageId& id, uint64_t epochMs, const SenmlRecord* records,
                  size_t count) {
  if (count == 0) return 0;
  JsonWriter w(out, cap);
  char mid[24];
  id.format(mid, sizeof mid);
  w.raw("[");
  for (size_t i = 0; i < count; i++) {
    const SenmlRecord& r = records[i];
    w.raw(i == 0 ? "{" : ",{");
    if (i == 0) {
      w.raw("\"mid\":").str(mid).raw(",");
      if (epochMs != 0) w.raw("\"bt\":").fixed(static_cast<int64_t>(epochMs), 3).raw(",");
    }
    w.raw("\"n\":").str(r.name);
    if (r.unit) w.raw(",\"u\":").str(r.unit);
    if (r.text) {
      w.raw(",\"vs\":").str(r.text);
    } else {
      w.raw(",\"v\":").fixed(r.scaled, r.decimals);
    }
    w.raw("}");
  }
  w.raw("]");
  return w.ok() ? w.length() : 0;
}

}  // namespace telly
