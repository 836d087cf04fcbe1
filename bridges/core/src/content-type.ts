/**
 * For a message that carries no content type (MQTT 3.1.1, a CoAP request without Content-Format),
 * the type is read from the payload: a JSON array is a SenML
 * pack, a JSON object is plain JSON (converted as with `application/json`), anything else is
 * taken as SenML CBOR (and refused with a precise error if it is not).
 */
export function sniffContentType(payload: Uint8Array): string {
  for (const byte of payload) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    if (byte === 0x5b) return 'application/senml+json'; // [
    if (byte === 0x7b) return 'application/json'; // {
    return 'application/senml+cbor';
  }
  return 'application/senml+json';
}
