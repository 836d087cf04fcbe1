export type { Accepted, IngestMessage, IngestOptions } from './ingest.ts';
export { DEFAULT_MAX_PAYLOAD_BYTES, Ingest, MESSAGE_HEADERS, thingKeyHash } from './ingest.ts';
export { IngestError, isIngestError } from './ingest-error.ts';
export type { BridgeMetrics } from './metrics.ts';
export { bridgeMetrics } from './metrics.ts';
export { DEFAULT_BURST, DEFAULT_RATE_PER_SECOND, RateLimiter } from './rate-limit.ts';
