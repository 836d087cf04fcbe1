// Compiled for the ESP8266 only, to measure what the sketch's static Device object costs in RAM:
// the symbol's size (xtensa-lx106-elf-nm -S) is sizeof(telly::Device) on the target.
#include "telly/device.h"

extern "C" {
char telly_device_bytes[sizeof(telly::Device)];
}
