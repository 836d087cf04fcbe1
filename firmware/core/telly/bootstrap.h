// Bootstrap: a device holding only its external id (its MAC address) and external key asks the
// API for its credentials — GET /things/bootstrap/{externalId} with `Authorization: Thing <key>`
// — and gets {"id","key","channels":[{"id","name","metadata"}],"content"} (docs/devices.md).
// Each bootstrap issues a new thing key, so the device keeps what it got and bootstraps again
// only when it has none (first boot, factory reset) or the key is refused.
#pragma once
#include <stddef.h>

namespace telly {

struct Credentials {
  char thingId[64];
  char key[128];
  char channelId[64];
};

/** The request path, the external id percent-encoded (":" kept, as in MAC addresses). */
size_t bootstrapPath(char* out, size_t cap, const char* externalId);
/** The `Authorization` header's value. */
size_t bootstrapAuthorization(char* out, size_t cap, const char* externalKey);

/**
 * Reads the response body. The channel is the one named `channelName` when given (non-empty),
 * else the first. False, with `error` saying why, when the body lacks what the device needs.
 */
bool parseBootstrap(const char* json, size_t length, const char* channelName, Credentials& out, char* error,
                    size_t errorCap);

}  // namespace telly
