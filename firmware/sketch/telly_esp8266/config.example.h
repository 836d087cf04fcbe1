// Copy to config.h (git-ignored) and fill in. Everything the sketch needs to know is here.
#pragma once

// ---- Wi-Fi ----
#define WIFI_SSID "your-ssid"
#define WIFI_PASSWORD "your-password"

// ---- Telly ----
// The MQTT bridge: 1883 plain, or 8883 with TELLY_MQTT_TLS 1 (the bridge has TELLY_MQTT_TLS_CERT/KEY set).
#define TELLY_MQTT_HOST "192.168.1.10"
#define TELLY_MQTT_PORT 1883
#define TELLY_MQTT_TLS 0
// With TLS: the SHA-1 fingerprint of the bridge's certificate ("AA BB …" or "AA:BB:…"), or leave
// empty to accept any certificate (encrypts, but does not authenticate the server).
#define TELLY_MQTT_TLS_FINGERPRINT ""

// Bootstrap (recommended): the device fetches its thing id, key and channel from the API, by its
// MAC address (the external id) and this external key, both set with configureBootstrap.
#define TELLY_API_HOST "192.168.1.10"
#define TELLY_API_PORT 4000
#define TELLY_EXTERNAL_KEY "16+ random letters and digits"
// The channel to publish on, by name; "" takes the first channel of the bootstrap config.
#define TELLY_CHANNEL_NAME ""

// Or fixed credentials (then bootstrap is not used): uncomment all three.
// #define TELLY_THING_ID "…"
// #define TELLY_THING_KEY "…"
// #define TELLY_CHANNEL_ID "…"

// Optional subtopic: readings go to channels/{channel}/messages/{subtopic}.
#define TELLY_SUBTOPIC ""

// ---- Board (NodeMCU 1.0 / ESP-12E pin names) ----
#define PIN_DHT D5          // DHT11 data (GPIO14), 10 kΩ pull-up to 3V3
#define PIN_LED D6          // LED anode through 220 Ω (GPIO12); cathode to GND
#define LED_ACTIVE_LOW 0    // 1 for the on-board LED (D4 / GPIO2, lit when low)
#define PIN_SOIL A0         // soil probe's analog output (the NodeMCU's divider maps 0–3.3 V to 0–1023)
#define PIN_SOIL_POWER -1   // a GPIO feeding the probe only while reading (e.g. D7), or -1: always powered

// Soil calibration: the raw A0 value in dry air and in water (read them from the serial log).
#define SOIL_DRY_RAW 850
#define SOIL_WET_RAW 400

// ---- Behaviour ----
#define SAMPLE_INTERVAL_MS 10000   // one reading every 10 s
// Deep sleep between readings (wire D0/GPIO16 to RST): 0 stays awake (commands arrive at once).
// Asleep, the device takes commands only when it wakes; a timed ON keeps it awake until it ends.
#define DEEP_SLEEP_SECONDS 0
#define SERIAL_BAUD 115200
