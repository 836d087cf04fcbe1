// Test support for bridges: real NATS + Postgres, the stream topology, the registry projection,
// and helpers that provision things the way the API does (through REGISTRY events).
import { randomBytes } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsServer } from '@telly/harness';
import {
  channelDecider,
  ProjectionWaiter,
  RegistryStore,
  registryMigrations,
  registryProjection,
  tenantDecider,
  thingDecider,
} from '@telly/registry';
import { createMetricsRegistry, type Logger, Publisher } from '@telly/runtime';
import { startRuntimeTestStack } from '@telly/runtime/testing';
import {
  createEvent,
  decodeEvent,
  eventFilter,
  eventSubject,
  KV_BUCKETS,
  keyHash,
  STREAMS,
  type TellyEvent,
  type ThingRateLimit,
} from '@telly/schemas';
import type pg from 'pg';
import { v7 } from 'uuid';
import { CredentialsCache } from '../credentials/credentials-cache.ts';
import { Ingest } from '../ingest.ts';
import { bridgeMetrics } from '../metrics.ts';

export interface ProvisionedThing {
  tenantId: string;
  thingId: string;
  key: string;
}

export interface BridgeTestStack {
  nats: NatsServer;
  natsUrl: string;
  nc: NatsConnection;
  pool: pg.Pool;
  credentialsKv: KV;
  logger: Logger;
  /** A tenant with a channel, for things to connect to. */
  tenant(): Promise<{ tenantId: string; channelId: string }>;
  /** One more channel in a tenant. */
  channel(tenantId: string): Promise<string>;
  /** A thing with a fresh key, connected to `channels`; resolves once bridges can see it. */
  thing(tenantId: string, channels: string[]): Promise<ProvisionedThing>;
  /**
   * Disables, rotates or deletes a thing, disconnects it from a channel (revocation tests) or
   * sets its own rate limit (null clears it); resolves once bridges can see it.
   */
  change(
    thing: ProvisionedThing,
    change:
      | 'disable'
      | 'delete'
      | 'rotate-key'
      | { disconnect: string }
      | { rateLimit: ThingRateLimit | null },
  ): Promise<void>;
  /** How many `rejected` events of the thing are in the EVENTS stream. */
  rejections(thing: ProvisionedThing): Promise<number>;
  /** Every event in EVENTS on `filter` (an `eventFilter`), oldest first. */
  events(filter: string): Promise<TellyEvent[]>;
  /** Requests a command for a thing, as the API does (`command.requested` in COMMANDS); its id. */
  requestCommand(tenantId: string, thingId: string, ttlMs?: number): Promise<string>;
  /** An Ingest for a bridge under test, with its own credentials cache and metrics registry. */
  ingest(
    protocol: 'mqtt' | 'http' | 'coap' | 'kafka',
  ): Promise<{ ingest: Ingest; credentials: CredentialsCache; close(): void }>;
  stop(): Promise<void>;
}

export async function startBridgeTestStack(): Promise<BridgeTestStack> {
  const runtime = await startRuntimeTestStack({ name: 'bridge-test', migrations: [registryMigrations] });
  const { nats, nc, jsm, pool, logger } = runtime;
  const credentialsKv = await new Kvm(nc).open(KV_BUCKETS.CREDENTIALS);
  await runtime.run(registryProjection({ pool, credentials: credentialsKv }));
  const js = jetstream(nc);
  const publisher = new Publisher(js);
  const store = new RegistryStore(js, jsm);
  const waiter = new ProjectionWaiter(pool);
  runtime.onStop(() => waiter.close());
  const caches: CredentialsCache[] = [];
  runtime.onStop(() => {
    for (const cache of caches) cache.close();
  });

  const channel = async (tenantId: string) => {
    const channelId = v7();
    const { seq } = await store.handle(
      channelDecider,
      { tenantId, kind: 'channel', id: channelId },
      {
        type: 'create',
        channelId,
        name: `channel-${channelId.slice(-6)}`,
        metadata: {},
      },
    );
    await waiter.waitFor(seq);
    return channelId;
  };

  return {
    nats,
    natsUrl: nats.url,
    nc,
    pool,
    credentialsKv,
    logger,
    async tenant() {
      const tenantId = v7();
      await store.handle(
        tenantDecider,
        { tenantId, kind: 'tenant', id: tenantId },
        {
          type: 'create',
          tenantId,
          name: 'test',
        },
      );
      return { tenantId, channelId: await channel(tenantId) };
    },
    channel,
    async thing(tenantId, channels) {
      const thingId = v7();
      const key = randomBytes(32).toString('base64url');
      const ref = { tenantId, kind: 'thing', id: thingId } as const;
      let { seq } = await store.handle(thingDecider, ref, {
        type: 'create',
        thingId,
        name: `thing-${thingId.slice(-6)}`,
        metadata: {},
        keyHash: keyHash(key),
      });
      for (const channelId of channels) {
        const state = (await store.load(channelDecider, { tenantId, kind: 'channel', id: channelId })).state;
        ({ seq } = await store.handle(thingDecider, ref, {
          type: 'connect',
          thingId,
          channel: { ...state, channelId },
        }));
      }
      await waiter.waitFor(seq);
      return { tenantId, thingId, key };
    },
    async change(thing, change) {
      const ref = { tenantId: thing.tenantId, kind: 'thing', id: thing.thingId } as const;
      const command =
        typeof change === 'object'
          ? 'rateLimit' in change
            ? ({ type: 'set-rate-limit', thingId: thing.thingId, rateLimit: change.rateLimit } as const)
            : ({ type: 'disconnect', thingId: thing.thingId, channelId: change.disconnect } as const)
          : change === 'rotate-key'
            ? ({
                type: 'rotate-key',
                thingId: thing.thingId,
                keyHash: keyHash(randomBytes(32).toString('base64url')),
              } as const)
            : ({ type: change, thingId: thing.thingId } as const);
      const { seq } = await store.handle(thingDecider, ref, command);
      await waiter.waitFor(seq);
    },
    async rejections(thing) {
      const info = await jsm.streams.info(STREAMS.EVENTS.name, {
        subjects_filter: eventFilter({ tenant: thing.tenantId, type: 'rejected' }),
      });
      const subject = eventSubject({ tenant: thing.tenantId, type: 'rejected', thing: thing.thingId });
      return info.state.subjects?.[subject] ?? 0;
    },
    async events(filter) {
      const consumer = await js.consumers.get(STREAMS.EVENTS.name, { filter_subjects: [filter] });
      const { num_pending: pending } = await consumer.info();
      const events: TellyEvent[] = [];
      if (pending === 0) return events;
      for await (const m of await consumer.fetch({ max_messages: pending, expires: 2_000 })) {
        events.push(decodeEvent(m.data));
        if (m.info.pending === 0) break;
      }
      return events;
    },
    async requestCommand(tenantId, thingId, ttlMs = 60_000) {
      const commandId = v7();
      await publisher.publishEvent(
        createEvent(
          'command.requested',
          {
            tenantId,
            data: {
              commandId,
              thingId,
              name: 'led',
              payload: { on: true },
              expiresAt: new Date(Date.now() + ttlMs).toISOString(),
            },
          },
          { id: v7(), now: Date.now() },
        ),
      );
      return commandId;
    },
    async ingest(protocol) {
      const cache = await CredentialsCache.open(credentialsKv);
      caches.push(cache);
      const ingest = new Ingest({
        protocol,
        credentials: cache,
        publisher: new Publisher(jetstream(nc)),
        metrics: bridgeMetrics(createMetricsRegistry(`${protocol}-bridge-test`)),
        logger,
      });
      return { ingest, credentials: cache, close: () => cache.close() };
    },
    stop: runtime.stop,
  };
}
export { selfSignedCertificate } from './certificate.ts';
