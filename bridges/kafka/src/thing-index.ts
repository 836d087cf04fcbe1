import { type KV, KvWatchInclude } from '@nats-io/kv';
import type { HealthCheck } from '@telly/runtime';
import {
  CREDENTIAL_KEYS_FILTER,
  credentialOfEntry,
  isCredentialError,
  keyHashFromKvKey,
  type ThingCredential,
} from '@telly/schemas';

/** A thing's credential and the hash of the key it is stored under. */
export interface IndexedThing {
  keyHash: string;
  credential: ThingCredential;
}

/**
 * The `credentials` bucket by thing id. A Kafka record names its thing rather than presenting
 * its key, so the bridge keeps every thing's entry (tenant, enabled, channels, own rate limit)
 * from one watch of the bucket: a thing created, connected, disabled or deleted is seen within
 * milliseconds, like the other bridges' caches see a key.
 */
export class ThingIndex {
  readonly #kv: KV;
  readonly #byThing = new Map<string, IndexedThing>();
  readonly #thingOfKey = new Map<string, string>();
  #stop: (() => void) | undefined;

  private constructor(kv: KV) {
    this.#kv = kv;
  }

  /** Watches the bucket; resolves once every entry it held is indexed. */
  static async open(kv: KV): Promise<ThingIndex> {
    const index = new ThingIndex(kv);
    const watch = await kv.watch({ key: CREDENTIAL_KEYS_FILTER, include: KvWatchInclude.LastValue });
    index.#stop = () => watch.stop();
    const initial = (await kv.status()).values;
    let ready: () => void = () => {};
    const loaded = new Promise<void>((resolve) => {
      ready = resolve;
    });
    if (initial === 0) ready();
    (async () => {
      for await (const entry of watch) {
        const keyHash = keyHashFromKvKey(entry.key);
        if (keyHash !== undefined) index.#apply(keyHash, credentialOf(entry));
        if (entry.delta === 0) ready();
      }
    })().catch(() => {
      // the watch ended (connection closed): serve nothing rather than stale entries
      index.#byThing.clear();
    });
    await loaded;
    return index;
  }

  /** The thing's entry, undefined for a thing that does not exist (or has no key). */
  get(thingId: string): IndexedThing | undefined {
    return this.#byThing.get(thingId);
  }

  get size(): number {
    return this.#byThing.size;
  }

  /** Up while the bucket answers. */
  healthCheck(): HealthCheck {
    return async () => {
      const status = await this.#kv.status();
      return { status: 'up', detail: { bucket: status.bucket, things: this.#byThing.size } };
    };
  }

  close(): void {
    this.#stop?.();
    this.#byThing.clear();
    this.#thingOfKey.clear();
  }

  #apply(keyHash: string, credential: ThingCredential | undefined): void {
    if (credential) {
      this.#byThing.set(credential.thingId, { keyHash, credential });
      this.#thingOfKey.set(keyHash, credential.thingId);
      return;
    }
    // a key deleted (rotated away, thing deleted): drop the thing only if that was its key
    const thingId = this.#thingOfKey.get(keyHash);
    this.#thingOfKey.delete(keyHash);
    if (thingId !== undefined && this.#byThing.get(thingId)?.keyHash === keyHash)
      this.#byThing.delete(thingId);
  }
}

function credentialOf(entry: Parameters<typeof credentialOfEntry>[0]): ThingCredential | undefined {
  try {
    return credentialOfEntry(entry);
  } catch (err) {
    if (isCredentialError(err)) return undefined;
    throw err;
  }
}
