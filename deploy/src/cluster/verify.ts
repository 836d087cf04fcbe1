// Test support: what the log and the projections hold for one tenant's device messages, counted
// per message id (each test message carries its id as the record `{"n":"id","vs":…}`).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connectNats, type NatsConfig } from '@telly/runtime';
import type pg from 'pg';

/** How many times each message id is in `MESSAGES` under `msg.<tenant>.>`. */
export async function logCopies(nats: NatsConfig, tenantId: string): Promise<Map<string, number>> {
  const nc = await connectNats(nats, 'cluster-test');
  const copies = new Map<string, number>();
  try {
    const filter = `msg.${tenantId}.>`;
    const info = await (await jetstreamManager(nc)).streams.info('MESSAGES', { subjects_filter: filter });
    let left = Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
    if (left === 0) return copies;
    const consumer = await jetstream(nc).consumers.get('MESSAGES', { filter_subjects: filter });
    while (left > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(left, 1_000), expires: 5_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        const id = (m.json<{ n?: string; vs?: string }[]>().find((r) => r.n === 'id')?.vs ?? '') || '?';
        copies.set(id, (copies.get(id) ?? 0) + 1);
      }
      if (got === 0) throw new Error(`MESSAGES stopped delivering with ${left} entries left`);
      left -= got;
    }
    return copies;
  } finally {
    await nc.close();
  }
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
