// Telly on a NodeMCU ESP8266: a DHT11, a soil-moisture probe and an LED, over MQTT 3.1.1.
//
// This file only moves bytes and pins: what is published, how commands are understood and
// reported, the offline buffer, the reconnect backoff and the sensor checks are the TellyCore
// library (firmware/core, unit-tested on the host and cross-compiled in this repository).
//
// Libraries (Arduino Library Manager names): "MQTT" by Joël Gähwiler (arduino-mqtt, QoS 1 publish),
// "DHT sensor library" by Adafruit (+ "Adafruit Unified Sensor"), and TellyCore built by
// `make -C firmware arduino-lib`. Board: esp8266 core 3.x, "NodeMCU 1.0 (ESP-12E Module)".
#include <DHT.h>
#include <ESP8266HTTPClient.h>
#include <ESP8266WiFi.h>
#include <LittleFS.h>
#include <MQTT.h>
#include <TellyCore.h>
#include <WiFiClientSecure.h>
#include <sys/time.h>
#include <time.h>

#include "config.h"

// File-local state and helpers are `static` (not an anonymous namespace: the Arduino builder
// generates prototypes for the .ino's functions, and does so reliably only at file scope).

static const char* kCredentialsFile = "/telly-bootstrap.json";

#if TELLY_MQTT_TLS
static BearSSL::WiFiClientSecure net;
#else
static WiFiClient net;
#endif
static MQTTClient mqtt(1280);  // packet buffer: commands up to ~1.2 KB reach the board (larger ones cannot)
static DHT dht(PIN_DHT, DHT11);

static telly::Credentials credentials;
static telly::Device* device = nullptr;
static uint32_t nextAttemptMs = 0;
static uint32_t nextSampleMs = 0;

// a command that arrived during a publish is handed to the core after it, from loop()
static char inboxTopic[telly::Device::kTopicBytes];
static char inboxPayload[1024];
static size_t inboxLength = 0;
static bool inboxFull = false;

static void logLine(const char* line) {
  Serial.print("[telly] ");
  Serial.println(line);
}

class BoardIo : public telly::DeviceIo {
 public:
  telly::Published publish(const char* topic, const char* payload, size_t length, int* token) override {
    // arduino-mqtt waits for the PUBACK of a QoS 1 publish: done, or failed (connection closed)
    *token = 0;
    return mqtt.publish(topic, payload, static_cast<int>(length), false, 1) ? telly::Published::Acknowledged
                                                                             : telly::Published::Failed;
  }
  void setLed(bool on) override { digitalWrite(PIN_LED, (on != LED_ACTIVE_LOW) ? HIGH : LOW); }
  void log(const char* line) override { logLine(line); }
  uint32_t nowMs() override { return millis(); }
  uint64_t epochMs() override {
    timeval tv;
    gettimeofday(&tv, nullptr);
    if (tv.tv_sec < 1700000000) return 0;  // no NTP answer yet: let the platform stamp it
    return static_cast<uint64_t>(tv.tv_sec) * 1000u + static_cast<uint64_t>(tv.tv_usec) / 1000u;
  }
};
static BoardIo io;

static void onMessage(MQTTClient*, char topic[], char bytes[], int length) {
  if (inboxFull || length < 0 || static_cast<size_t>(length) >= sizeof inboxPayload) {
    logLine("command dropped: the device is busy or the command is over 1 KiB");
    return;  // not reported: the platform resends an unacknowledged command to a persistent session
  }
  telly::copyString(inboxTopic, sizeof inboxTopic, topic);
  memcpy(inboxPayload, bytes, static_cast<size_t>(length));
  inboxLength = static_cast<size_t>(length);
  inboxFull = true;
}

static void connectWifi() {
  WiFi.mode(WIFI_STA);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  Serial.print("[telly] wifi ");
  Serial.print(WIFI_SSID);
  while (WiFi.status() != WL_CONNECTED) {
    delay(250);
    Serial.print('.');
  }
  Serial.print(" connected, ip ");
  Serial.println(WiFi.localIP());
  configTime(0, 0, "pool.ntp.org", "time.nist.gov");
}

// Reads the stored bootstrap answer, or asks the API for one (and stores it).
static bool loadCredentials() {
#ifdef TELLY_THING_ID
  return telly::copyString(credentials.thingId, sizeof credentials.thingId, TELLY_THING_ID) &&
         telly::copyString(credentials.key, sizeof credentials.key, TELLY_THING_KEY) &&
         telly::copyString(credentials.channelId, sizeof credentials.channelId, TELLY_CHANNEL_ID);
#else
  char error[128];
  File stored = LittleFS.open(kCredentialsFile, "r");
  if (stored) {
    String body = stored.readString();
    stored.close();
    if (telly::parseBootstrap(body.c_str(), body.length(), TELLY_CHANNEL_NAME, credentials, error, sizeof error)) {
      return true;
    }
    logLine(error);
  }
  String mac = WiFi.macAddress();
  mac.toLowerCase();
  char path[96];
  char authorization[160];
  telly::bootstrapPath(path, sizeof path, mac.c_str());
  telly::bootstrapAuthorization(authorization, sizeof authorization, TELLY_EXTERNAL_KEY);
  WiFiClient http;
  HTTPClient request;
  request.begin(http, TELLY_API_HOST, TELLY_API_PORT, path);
  request.addHeader("Authorization", authorization);
  int status = request.GET();
  String body = request.getString();
  request.end();
  Serial.printf("[telly] bootstrap %s -> %d\n", path, status);
  if (status != 200) return false;  // 404: unknown MAC, wrong key or disabled thing; 429: wait
  if (!telly::parseBootstrap(body.c_str(), body.length(), TELLY_CHANNEL_NAME, credentials, error, sizeof error)) {
    logLine(error);
    return false;
  }
  File out = LittleFS.open(kCredentialsFile, "w");
  if (out) {
    out.print(body);
    out.close();
  }
  return true;
#endif
}

static void forgetCredentials() {
#ifndef TELLY_THING_ID
  LittleFS.remove(kCredentialsFile);  // the key was rotated or the thing re-bootstrapped: ask again
#endif
}

static bool connectMqtt() {
#if TELLY_MQTT_TLS
  if (strlen(TELLY_MQTT_TLS_FINGERPRINT) > 0) {
    net.setFingerprint(TELLY_MQTT_TLS_FINGERPRINT);
  } else {
    net.setInsecure();
  }
#endif
  // a persistent session: commands sent while the device was away wait for it
  mqtt.setOptions(30, false, 5000);
  if (!mqtt.connect(credentials.thingId, credentials.thingId, credentials.key)) {
    int code = static_cast<int>(mqtt.returnCode());
    Serial.printf("[telly] mqtt connect failed (error %d, connack %d)\n", static_cast<int>(mqtt.lastError()), code);
    if (code == 4) forgetCredentials();  // bad username or password
    return false;
  }
  if (!mqtt.subscribe(device->commandsTopic(), 1)) return false;
  // arduino-mqtt keeps nothing in flight across connections: the core resends its head
  device->connected(false);
  return true;
}

static int32_t readSoil() {
  if (PIN_SOIL_POWER >= 0) {
    digitalWrite(PIN_SOIL_POWER, HIGH);
    delay(10);
  }
  int32_t raw = analogRead(PIN_SOIL);
  if (PIN_SOIL_POWER >= 0) digitalWrite(PIN_SOIL_POWER, LOW);
  Serial.printf("[telly] soil raw %ld (calibration: dry %d, wet %d)\n", static_cast<long>(raw), SOIL_DRY_RAW,
                SOIL_WET_RAW);
  return raw;
}

void setup() {
  Serial.begin(SERIAL_BAUD);
  Serial.println();
  pinMode(PIN_LED, OUTPUT);
  digitalWrite(PIN_LED, LED_ACTIVE_LOW ? HIGH : LOW);
  if (PIN_SOIL_POWER >= 0) pinMode(PIN_SOIL_POWER, OUTPUT);
  dht.begin();
  LittleFS.begin();
  connectWifi();
  while (!loadCredentials()) {
    logLine("no credentials yet: bootstrap again in 30 s");
    delay(30000);
  }
  static telly::DeviceOptions options;
  options.subtopic = TELLY_SUBTOPIC;
  options.soil.dryRaw = SOIL_DRY_RAW;
  options.soil.wetRaw = SOIL_WET_RAW;
  static telly::Device board(io, credentials, ESP.random(), ESP.random(), options);
  device = &board;
  Serial.printf("[telly] thing %s, channel %s\n", credentials.thingId, credentials.channelId);
  mqtt.begin(TELLY_MQTT_HOST, TELLY_MQTT_PORT, net);
  mqtt.onMessageAdvanced(onMessage);
}

void loop() {
  uint32_t now = millis();
  if (!mqtt.connected()) {
    device->disconnected();
    if (static_cast<int32_t>(now - nextAttemptMs) >= 0) {
      if (WiFi.status() != WL_CONNECTED || !connectMqtt()) {
        uint32_t delayMs = device->reconnectDelayMs();
        Serial.printf("[telly] next attempt in %u ms\n", static_cast<unsigned>(delayMs));
        nextAttemptMs = now + delayMs;
      }
    }
  } else {
    mqtt.loop();
  }
  if (inboxFull) {
    device->message(inboxTopic, inboxPayload, inboxLength);
    inboxFull = false;
  }
  if (static_cast<int32_t>(now - nextSampleMs) >= 0) {
    device->sample(dht.readTemperature(), dht.readHumidity(), readSoil());
    nextSampleMs = now + SAMPLE_INTERVAL_MS;
  }
  device->loop();

#if DEEP_SLEEP_SECONDS > 0
  // asleep only with nothing left to send and no LED timer running (the timer needs the CPU)
  if (mqtt.connected() && device->waiting() == 0 && !device->ledOn() && millis() > 5000) {
    logLine("deep sleep");
    mqtt.disconnect();
    ESP.deepSleep(static_cast<uint64_t>(DEEP_SLEEP_SECONDS) * 1000000ULL);
  }
#endif
  delay(10);
}
