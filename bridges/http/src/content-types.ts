/** Body types read as device messages (docs/devices.md); anything else still reaches Ingest, which answers 415. */
export const MESSAGE_CONTENT_TYPES: readonly string[] = [
  'application/senml+json',
  'application/senml+cbor',
  'application/json',
];
