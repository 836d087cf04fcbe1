/** Body types read as device messages (DESIGN.md §3); anything else still reaches Ingest, which answers 415. */
export const MESSAGE_CONTENT_TYPES: readonly string[] = [
  'application/senml+json',
  'application/senml+cbor',
  'application/json',
];
