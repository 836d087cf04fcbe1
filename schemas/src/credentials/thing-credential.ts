import { CredentialError } from './errors.ts';

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
  const { thingId, tenantId, enabled, channels } = credential;
  return encoder.encode(JSON.stringify({ thingId, tenantId, enabled, channels }));
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
    !c.channels.every((channel) => typeof channel === 'string')
  ) {
    throw new CredentialError(
      'INVALID_CREDENTIAL',
      'a credential entry lacks thingId, tenantId, enabled or channels',
    );
  }
  return { thingId: c.thingId, tenantId: c.tenantId, enabled: c.enabled, channels: c.channels };
}

/**
 * The credential an entry holds, undefined when there is none (no entry, a delete or purge
 * marker, an empty value): what both a lookup and a watch make of an entry.
 */
export function credentialOfEntry(entry: CredentialEntry | null | undefined): ThingCredential | undefined {
  if (entry?.operation !== 'PUT' || entry.value.length === 0) return undefined;
  return decodeThingCredential(entry.value);
}

/** True when a thing's session may go on under `next`: same thing, still enabled, same channels. */
export function sameAccess(current: ThingCredential, next: ThingCredential | undefined): boolean {
  return (
    next?.enabled === true &&
    next.thingId === current.thingId &&
    next.channels.join() === current.channels.join()
  );
}
