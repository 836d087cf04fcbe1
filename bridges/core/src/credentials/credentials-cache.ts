import { type KV, type KvEntry, Kvm, KvWatchInclude } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { HealthCheck } from '@telly/runtime';
import {
  CREDENTIAL_KEYS_FILTER,
  credentialKvKey,
  credentialOfEntry,
  isCredentialError,
  KV_BUCKETS,
  keyHashFromKvKey,
  type ThingCredential,
} from '@telly/schemas';

/** Cached credentials kept at most. @default 100000 */
export const DEFAULT_CREDENTIALS_CACHE_SIZE = 100_000;

/** Called when a key's credential changes or disappears (rotated, deleted, disabled, reconnected). */
export type CredentialListener = (keyHash: string, credential: ThingCredential | undefined) => void;

/**
 * A bridge's view of the `credentials` bucket: lookups are served from memory after the first
 * read, and a watch on the bucket updates or drops entries the moment the registry projection
 * changes them, so a revoked key stops working at every bridge within milliseconds (not after a
 * TTL). Listeners let a bridge disconnect live sessions of a revoked thing.
 */
export class CredentialsCache {
  readonly #kv: KV;
  readonly #max: number;
  readonly #entries = new Map<string, ThingCredential | undefined>();
  readonly #listeners = new Set<CredentialListener>();
  /** Keys being read from the bucket; true once the watch saw them change during the read. */
  readonly #reading = new Map<string, boolean>();
  #stop: (() => void) | undefined;

  private constructor(kv: KV, max: number) {
    this.#kv = kv;
    this.#max = max;
  }

  /** Opens the `credentials` bucket on `nc` and watches it; see {@link open}. */
  static async connect(nc: NatsConnection, max = DEFAULT_CREDENTIALS_CACHE_SIZE): Promise<CredentialsCache> {
    return CredentialsCache.open(await new Kvm(nc).open(KV_BUCKETS.CREDENTIALS), max);
  }

  /** Starts watching the bucket; resolves once the watch is in place. */
  static async open(kv: KV, max = DEFAULT_CREDENTIALS_CACHE_SIZE): Promise<CredentialsCache> {
    const cache = new CredentialsCache(kv, max);
    const watch = await kv.watch({ key: CREDENTIAL_KEYS_FILTER, include: KvWatchInclude.UpdatesOnly });
    cache.#stop = () => watch.stop();
    (async () => {
      for await (const entry of watch) {
        const keyHash = keyHashFromKvKey(entry.key);
        if (keyHash === undefined) continue;
        const credential = credentialOf(entry);
        if (cache.#reading.has(keyHash)) cache.#reading.set(keyHash, true);
        // a put is cached either way; a delete matters only for keys held
        if (credential || cache.#entries.has(keyHash)) cache.#set(keyHash, credential);
        for (const listener of cache.#listeners) listener(keyHash, credential);
      }
    })().catch(() => {
      // the watch ended (connection closed): forget everything rather than serve stale entries
      cache.#entries.clear();
    });
    return cache;
  }

  /** The credential of a key hash (`sha256:<hex>`), undefined for an unknown or revoked key. */
  async get(keyHash: string): Promise<ThingCredential | undefined> {
    if (this.#entries.has(keyHash)) return this.#entries.get(keyHash);
    return this.latest(keyHash);
  }

  /** Like {@link get}, but read from the bucket even when held: for a change the watch may not have brought yet. */
  async latest(keyHash: string): Promise<ThingCredential | undefined> {
    for (;;) {
      this.#reading.set(keyHash, false);
      const credential = credentialOf(await this.#kv.get(credentialKvKey(keyHash)));
      const changedMeanwhile = this.#reading.get(keyHash);
      this.#reading.delete(keyHash);
      // the bucket changed during the read: what was read may be stale, read again
      if (changedMeanwhile) continue;
      this.#set(keyHash, credential);
      return credential;
    }
  }

  /** Up while the bucket answers, so keys not yet cached can be looked up. */
  healthCheck(): HealthCheck {
    return async () => {
      const status = await this.#kv.status();
      return { status: 'up', detail: { bucket: status.bucket, values: status.values } };
    };
  }

  onChange(listener: CredentialListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#stop?.();
    this.#entries.clear();
    this.#listeners.clear();
  }

  #set(keyHash: string, credential: ThingCredential | undefined): void {
    this.#entries.delete(keyHash);
    this.#entries.set(keyHash, credential);
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}

/** An entry that does not decode grants nothing: the key is refused rather than the watch ended. */
function credentialOf(entry: KvEntry | null): ThingCredential | undefined {
  try {
    return credentialOfEntry(entry);
  } catch (err) {
    if (isCredentialError(err)) return undefined;
    throw err;
  }
}
