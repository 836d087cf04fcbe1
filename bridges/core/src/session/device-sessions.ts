import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger, Publisher } from '@telly/runtime';
import { keyHash, type Protocol, sameAccess } from '@telly/schemas';
import type { CredentialsCache } from '../credentials/credentials-cache.ts';
import type { Ingest } from '../ingest.ts';
import type { BridgeMetrics } from '../metrics.ts';
import { recordEvent } from '../record-event.ts';
import { DeviceSession, type SessionContext } from './device-session.ts';
import { onlineEvent } from './session-events.ts';

export interface DeviceSessionsOptions {
  /** Authenticates keys and publishes; its protocol is the sessions'. */
  ingest: Ingest;
  /** The same cache the Ingest reads: its changes end sessions whose access changed. */
  credentials: CredentialsCache;
  /** For the command consumers. */
  jsm: JetStreamManager;
  /** Where presence and command status events go. */
  publisher: Publisher;
  /** Its `connections` gauge counts the open sessions. */
  metrics: BridgeMetrics;
  logger: Logger;
}

/** How a device asks for a session. */
export interface OpenSessionRequest {
  /** The thing key the device presented. */
  key: string;
  /** The thing the device says it is (MQTT username): the key must be that thing's. */
  thingId?: string;
  /** The peer, as `thing.online` / `thing.offline` record it. */
  remoteAddress: string;
  /**
   * Called when the bridge ends the session itself — the thing's key was rotated or deleted, the
   * thing disabled or its channels changed — after it is closed (`kicked`): drop the connection.
   */
  onRevoked?: (session: DeviceSession) => void;
}

/**
 * The device sessions of one bridge instance, whatever its protocol: opening one authenticates
 * the key and records `thing.online`; a change to the key's credential closes every session
 * opened with it whose access changed, within the time the credentials watch takes (milliseconds).
 */
export class DeviceSessions {
  readonly #context: SessionContext;
  readonly #byKey = new Map<string, Map<DeviceSession, OpenSessionRequest['onRevoked']>>();
  readonly #stopWatching: () => void;
  readonly #metrics: BridgeMetrics;

  constructor(options: DeviceSessionsOptions) {
    this.#context = { ...options, closed: (session) => this.#forget(session) };
    this.#metrics = options.metrics;
    this.#stopWatching = options.credentials.onChange((hash, credential) => {
      for (const [session, onRevoked] of this.#byKey.get(hash) ?? []) {
        if (credential && sameAccess(session.thing, credential)) {
          session.refresh(credential);
          continue;
        }
        options.logger.info({ thingId: session.thing.thingId }, 'credentials changed; ending the session');
        session.close('kicked');
        onRevoked?.(session);
      }
    });
  }

  get protocol(): Protocol {
    return this.#context.ingest.protocol;
  }

  /** Sessions open now. */
  get size(): number {
    let size = 0;
    for (const sessions of this.#byKey.values()) size += sessions.size;
    return size;
  }

  /**
   * Authenticates the key (and the claimed thing) and opens a session for it.
   * @throws IngestError `unauthenticated` or `thing-disabled`; a lookup that could not be made
   * (NATS unreachable) as is, so the caller answers "try again", not "wrong key".
   */
  async open(request: OpenSessionRequest): Promise<DeviceSession> {
    const thing = await this.#context.ingest.authenticate(request.key, request.thingId);
    const hash = keyHash(request.key);
    const session = new DeviceSession(this.#context, thing, hash, request.remoteAddress);
    const sessions = this.#byKey.get(hash) ?? new Map();
    sessions.set(session, request.onRevoked);
    this.#byKey.set(hash, sessions);
    this.#metrics.connections.inc({ protocol: this.protocol });
    recordEvent(this.#context.publisher, this.#context.logger, onlineEvent(session));
    return session;
  }

  /** Ends every session still open (`shutdown`) and stops watching credentials. */
  close(): void {
    this.#stopWatching();
    for (const sessions of [...this.#byKey.values()]) {
      for (const session of [...sessions.keys()]) session.close('shutdown');
    }
  }

  #forget(session: DeviceSession): void {
    const sessions = this.#byKey.get(session.keyHash);
    if (!sessions?.delete(session)) return;
    this.#metrics.connections.dec({ protocol: this.protocol });
    if (sessions.size === 0) this.#byKey.delete(session.keyHash);
  }
}
