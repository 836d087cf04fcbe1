// The Telly device core as an Arduino library (built by `make arduino-lib` from firmware/core).
#pragma once
#include "telly/bootstrap.h"
#include "telly/command.h"
#include "telly/device.h"
#include "telly/json.h"
#include "telly/senml.h"
#include "telly/sensors.h"
