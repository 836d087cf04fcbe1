import { IngestError, sniffContentType } from '@telly/bridge-core';

/** CoAP Content-Format numbers (RFC 7252 §12.3, IANA) the bridge reads, and the type each is to Ingest. */
export const CONTENT_FORMATS: Readonly<Record<number, string>> = {
  50: 'application/json',
  60: 'application/senml+cbor', // plain CBOR: a SenML CBOR pack is what a device sends as CBOR
  110: 'application/senml+json',
  112: 'application/senml+cbor',
};

/** The Content-Format number of a media type the bridge sends (notifications, answers). */
export const FORMAT_NUMBER: Readonly<Record<string, number>> = {
  'application/json': 50,
  'application/senml+json': 110,
  'text/plain': 0,
};

/**
 * The content type of a request from its Content-Format option, as node-coap parsed it: the
 * registered media type (a string) or, for a number it does not know, the number. Absent, the
 * payload is sniffed as MQTT's is. A format the bridge does not read is refused (4.15).
 */
export function contentTypeOf(format: unknown, payload: Uint8Array): string {
  if (format === undefined || format === null) return sniffContentType(payload);
  const number = typeof format === 'number' ? format : FORMAT_OF_TYPE[String(format)];
  const type = number === undefined ? undefined : CONTENT_FORMATS[number];
  if (type === undefined) {
    throw new IngestError(
      'unsupported-content-type',
      `Content-Format ${String(format)} is not one of 110 (senml+json), 112 (senml+cbor), 50 (json), 60 (cbor)`,
    );
  }
  return type;
}

/** node-coap names registered formats by media type; the numbers the bridge reads, by that name. */
const FORMAT_OF_TYPE: Readonly<Record<string, number>> = {
  'application/json': 50,
  'application/cbor': 60,
  'application/senml+json': 110,
  'application/senml+cbor': 112,
};
