// Plausibility of the board's sensors. A DHT11 reading is refused when the library gave NaN (no
// answer, checksum error), when it is outside what a DHT11 can measure (0–50 °C, 20–90 %RH per
// its datasheet, with a small margin), or when the sensor is stuck: the very same pair of values
// `stuckAfter` readings in a row (a DHT11 reads in whole units, so the default is generous).
// The soil probe's ADC value is mapped to 0–100 % between its calibrated dry and wet readings; a
// raw value far outside them means a disconnected or shorted probe.
#pragma once
#include <stdint.h>

namespace telly {

enum class Verdict : uint8_t { Ok, NotANumber, OutOfRange, Stuck };

/** "ok", "nan", "out-of-range", "stuck": what the device reports for a refused reading. */
const char* verdictText(Verdict v);

struct Dht11Limits {
  float minCelsius = -1.0f;
  float maxCelsius = 51.0f;
  float minHumidity = 15.0f;
  float maxHumidity = 95.0f;
  uint16_t stuckAfter = 360;  // one hour of identical readings at one per 10 s
};

class Dht11Check {
 public:
  explicit Dht11Check(Dht11Limits limits = {}) : limits_(limits) {}
  Verdict check(float celsius, float humidity);

 private:
  Dht11Limits limits_;
  float lastCelsius_ = 0;
  float lastHumidity_ = 0;
  uint16_t same_ = 0;
};

struct SoilCalibration {
  uint16_t dryRaw = 850;  // ADC reading in dry air / dry soil (capacitive probes read high when dry)
  uint16_t wetRaw = 400;  // in water
  uint16_t marginRaw = 60;
};

/** Soil moisture in tenths of a percent (0–1000); OutOfRange when the raw value is implausible. */
Verdict soilMoisture(uint16_t raw, const SoilCalibration& calibration, int32_t* tenthsPercent);

}  // namespace telly
