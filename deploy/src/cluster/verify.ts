// Test support: what the log and the projections hold for one tenant's device messages, counted
// per message id (each test message carries its id as the record `{"n":"id","vs":…}`).
import { createHash } from 'node:crypto';
import {
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { waitFor } from '@telly/harness';
import { connectNats, type NatsConfig } from '@telly/runtime';
import type pg from 'pg';

/**
 * Every entry of `stream` under `filter`, in order, each handed to `each`. A cluster that just
 * elected a stream leader (a restore, a killed server) can leave a fresh consumer with nothing to
 * deliver; such a consumer is replaced, from the next sequence, a few times before this gives up.
 */
export async function readStream(
  nats: NatsConfig,
  stream: string,
  filter: string,
  each: (entry: JsMsg) => void,
): Promise<void> {
  const nc = await connectNats(nats, 'cluster-test');
  try {
    const info = await (await jetstreamManager(nc)).streams.info(stream, { subjects_filter: filter });
    let left = Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
    if (left === 0) return;
    const js = jetstream(nc);
    let consumer = await js.consumers.get(stream, { filter_subjects: filter });
    let nextSeq = 0;
    let stalls = 0;
    while (left > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(left, 1_000), expires: 5_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        nextSeq = m.seq + 1;
        each(m);
      }
      left -= got;
      if (got > 0) {
        stalls = 0;
      } else if (++stalls < 4) {
        consumer = await js.consumers.get(stream, {
          filter_subjects: filter,
          ...(nextSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: nextSeq } : {}),
        });
      } else {
        throw new Error(`${stream} stopped delivering with ${left} entries left`);
      }
    }
  } finally {
    await nc.close();
  }
}

/** How many times each message id is in `MESSAGES` under `msg.<tenant>.>`. */
export async function logCopies(nats: NatsConfig, tenantId: string): Promise<Map<string, number>> {
  const copies = new Map<string, number>();
  await readStream(nats, 'MESSAGES', `msg.${tenantId}.>`, (m) => {
    const id = (m.json<{ n?: string; vs?: string }[]>().find((r) => r.n === 'id')?.vs ?? '') || '?';
    copies.set(id, (copies.get(id) ?? 0) + 1);
  });
  return copies;
}

/** An alert event in EVENTS, as the rules component published it. */
export interface AlertEvent {
  id: string;
  type: string;
  data: {
    alertId: string;
    ruleId: string;
    thingId: string;
    name: string;
    transition?: string;
    action?: number;
  };
}

/** The tenant's `alert.*` events in EVENTS (`evt.<tenant>.alert.<thing>`), in log order. */
export async function alertEvents(nats: NatsConfig, tenantId: string): Promise<AlertEvent[]> {
  const events: AlertEvent[] = [];
  await readStream(nats, 'EVENTS', `evt.${tenantId}.alert.>`, (m) => events.push(m.json<AlertEvent>()));
  return events;
}

/** What a stream holds, entry by entry: their count, last sequence, and a digest of every (seq, subject, data). */
export async function streamDigest(
  nats: NatsConfig,
  stream: string,
): Promise<{ entries: number; lastSeq: number; sha256: string }> {
  const hash = createHash('sha256');
  let entries = 0;
  let lastSeq = 0;
  await readStream(nats, stream, '>', (m) => {
    entries++;
    lastSeq = m.seq;
    hash.update(`${m.seq}\u0000${m.subject}\u0000${m.data.length}\u0000`).update(m.data);
  });
  return { entries, lastSeq, sha256: hash.digest('hex') };
}

/** What the telemetry projection holds for the tenant: rows per message id, and the 1m rollups' count of `v`. */
export async function telemetryCopies(
  pool: pg.Pool,
  tenantId: string,
): Promise<{ rows: Map<string, number>; rawValues: number; rollupCount: number }> {
  const ids = await pool.query<{ id: string; n: string }>(
    `SELECT string_value AS id, count(*) AS n FROM telemetry WHERE tenant_id = $1 AND name = 'id' GROUP BY 1`,
    [tenantId],
  );
  const values = await pool.query<{ raw: string; rollup: string }>(
    `SELECT (SELECT count(*) FROM telemetry WHERE tenant_id = $1 AND name = 'v') AS raw,
            (SELECT coalesce(sum(count), 0) FROM telemetry_rollup_1m WHERE tenant_id = $1 AND name = 'v') AS rollup`,
    [tenantId],
  );
  return {
    rows: new Map(ids.rows.map((r) => [r.id, Number(r.n)])),
    rawValues: Number(values.rows[0]?.raw ?? 0),
    rollupCount: Number(values.rows[0]?.rollup ?? 0),
  };
}

/** Ids acknowledged but absent, and ids present more than once. */
export function lostAndDoubled(
  acked: Iterable<string>,
  copies: Map<string, number>,
): { lost: string[]; doubled: string[]; unexpected: string[] } {
  const ackedSet = new Set(acked);
  const lost = [...ackedSet].filter((id) => !copies.has(id));
  const doubled = [...copies].filter(([, n]) => n > 1).map(([id]) => id);
  // not acknowledged yet stored is allowed (the ack was lost with a killed bridge); anything else is not ours
  const unexpected = [...copies.keys()].filter((id) => !ackedSet.has(id) && !/^(mqtt|http)-\d{6}$/.test(id));
  return { lost, doubled, unexpected };
}

/** Waits until `stream` has a leader and `followers` replicas, each current with it (after a restore or a restart). */
export async function replicasCurrent(
  jsm: JetStreamManager,
  stream: string,
  followers: number,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    async () => {
      const { cluster } = await jsm.streams.info(stream);
      const replicas = cluster?.replicas ?? [];
      return Boolean(cluster?.leader) && replicas.length === followers && replicas.every((r) => r.current);
    },
    { timeoutMs, what: `${stream}: a leader and ${followers} current replicas` },
  );
}
