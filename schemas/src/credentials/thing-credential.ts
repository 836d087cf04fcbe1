import { CredentialError } from './errors.ts';

/** The most messages per second a thing may be allowed (`setThingRateLimit`). */
export const MAX_THING_RATE_PER_SECOND = 100_000;
/** The largest burst a thing may be allowed (`setThingRateLimit`). */
export const MAX_THING_RATE_BURST = 1_000_000;

/**
 * A thing's own rate limit, replacing the deployment's (`TELLY_RATE_PER_SECOND`/`TELLY_RATE_BURST`)
 * for it: `perSecond` in (0, {@link MAX_THING_RATE_PER_SECOND}], `burst` a whole number in
 * [1, {@link MAX_THING_RATE_BURST}].
 */
export interface ThingRateLimit {
  perSecond: number;
  burst: number;
}

/** True when `value` is a {@link ThingRateLimit} within the bounds. */
export function isThingRateLimit(value: unknown): value is ThingRateLimit {
  if (typeof value !== 'object' || value === null) return false;
  const { perSecond, burst } = value as Partial<ThingRateLimit>;
  return (
    typeof perSecond === 'number' &&
    perSecond > 0 &&
    perSecond <= MAX_THING_RATE_PER_SECOND &&
    Number.isInteger(burst) &&
    (burst as number) >= 1 &&
    (burst as number) <= MAX_THING_RATE_BURST
  );
}

/**
 * What a bridge needs to authenticate and authorize a thing: the value of its key's entry in the
 * `credentials` bucket (at {@link credentialKvKey} of the key's hash). The registry projection
 * writes it; a rotated or deleted key's entry is deleted, so a bridge watching the bucket drops it
 * at once.
 */
export interface ThingCredential {
  thingId: string;
  tenantId: string;
  enabled: boolean;
  /** Channels the thing may publish to and subscribe on, sorted. */
  channels: string[];
  /** The thing's own rate limit; absent (also in entries written before it existed): the deployment's. */
  rateLimit?: ThingRateLimit;
}

/** A bucket entry as `@nats-io/kv` reads or watches it (only what the codec needs). */
export interface CredentialEntry {
  readonly operation: string;
  readonly value: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes of a credential entry (JSON), as the registry writes them. */
export function encodeThingCredential(credential: ThingCredential): Uint8Array {
  const { thingId, tenantId, enabled, channels, rateLimit } = credential;
  const limit = rateLimit && { perSecond: rateLimit.perSecond, burst: rateLimit.burst };
  return encoder.encode(JSON.stringify({ thingId, tenantId, enabled, channels, rateLimit: limit }));
}

/** @throws CredentialError `INVALID_CREDENTIAL` when the bytes are not a {@link ThingCredential}. */
export function decodeThingCredential(bytes: Uint8Array): ThingCredential {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new CredentialError('INVALID_CREDENTIAL', 'a credential entry is not JSON', { cause: err });
  }
  const c = value as Partial<ThingCredential> | null;
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.thingId !== 'string' ||
    typeof c.tenantId !== 'string' ||
    typeof c.enabled !== 'boolean' ||
    !Array.isArray(c.channels) ||
    !c.channels.every((channel) => typeof channel === 'string') ||
    (c.rateLimit !== undefined && !isThingRateLimit(c.rateLimit))
  ) {
    throw new CredentialError(
      'INVALID_CREDENTIAL',
      'a credential entry lacks thingId, tenantId, enabled or channels, or has an invalid rateLimit',
    );
  }
  const credential: ThingCredential = {
    thingId: c.thingId,
    tenantId: c.tenantId,
    enabled: c.enabled,
    channels: c.channels,
  };
  if (c.rateLimit) credential.rateLimit = { perSecond: c.rateLimit.perSecond, burst: c.rateLimit.burst };
  return credential;
}

/**
 * The credential an entry holds, undefined when there is none (no entry, a delete or purge
 * marker, an empty value): what both a lookup and a watch make of an entry.
 */
export function credentialOfEntry(entry: CredentialEntry | null | undefined): ThingCredential | undefined {
  if (entry?.operation !== 'PUT' || entry.value.length === 0) return undefined;
  return decodeThingCredential(entry.value);
}

/**
 * True when a thing's session may go on under `next`: same thing, still enabled, and every
 * channel it had still connected. A channel connected meanwhile widens the session instead of
 * ending it: a device that connects the moment it was provisioned may have authenticated with the
 * credential written before its channels were.
 */
export function sameAccess(current: ThingCredential, next: ThingCredential | undefined): boolean {
  return (
    next?.enabled === true &&
    next.thingId === current.thingId &&
    current.channels.every((channel) => next.channels.includes(channel))
  );
}
