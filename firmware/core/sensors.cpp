#include "telly/sensors.h"

namespace telly {

const char* verdictText(Verdict v) {
  switch (v) {
    case Verdict::Ok: return "ok";
    case Verdict::NotANumber: return "nan";
    case Verdict::OutOfRange: return "out-of-range";
    case Verdict::Stuck: return "stuck";
  }
  return "unknown";
}

Verdict Dht11Check::check(float celsius, float humidity) {
  // NaN is the only value unequal to itself (no <cmath> on the bare target toolchain)
  if (celsius != celsius || humidity != humidity) return Verdict::NotANumber;
  if (celsius < limits_.minCelsius || celsius > limits_.maxCelsius || humidity < limits_.minHumidity ||
      humidity > limits_.maxHumidity) {
    return Verdict::OutOfRange;
  }
  if (celsius == lastCelsius_ && humidity == lastHumidity_) {
    if (same_ < UINT16_MAX) same_++;
  } else {
    same_ = 1;
    lastCelsius_ = celsius;
    lastHumidity_ = humidity;
  }
  return limits_.stuckAfter > 0 && same_ >= limits_.stuckAfter ? Verdict::Stuck : Verdict::Ok;
}

Verdict soilMoisture(uint16_t raw, const SoilCalibration& c, int32_t* tenthsPercent) {
  int32_t dry = c.dryRaw;
  int32_t wet = c.wetRaw;
  if (dry == wet) return Verdict::OutOfRange;
  int32_t low = (dry < wet ? dry : wet) - c.marginRaw;
  int32_t high = (dry < wet ? wet : dry) + c.marginRaw;
  if (raw < low || raw > high) return Verdict::OutOfRange;
  int32_t tenths = (static_cast<int32_t>(raw) - dry) * 1000 / (wet - dry);
  *tenthsPercent = tenths < 0 ? 0 : (tenths > 1000 ? 1000 : tenths);
  return Verdict::Ok;
}

}  // namespace telly
