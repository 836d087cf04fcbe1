// 30-day hourly aggregate: one thing's `telemetry(every: "1h", aggregate: AVG)` over 30 days
// through GraphQL, in a telemetry table of 10M rows (1M in short mode) spread over many things,
// filled directly (lib/telemetry-fill.ts). The budget names no reference; the same query run
// directly against Postgres by @telly/telemetry-pg's TelemetryQueries (the rollup SQL the API
// runs) is measured beside it, alternating, and the raw-rows aggregate is shown for context.
import { randomUUID } from 'node:crypto';
import { TelemetryQueries } from '@telly/telemetry-pg';
import pg from 'pg';
import { LatencyHistogram } from '../lib/histogram.ts';
import { logIn } from '../lib/simulator.ts';
import { round } from '../lib/stats.ts';
import { fillThing, ROWS_PER_THING, SAMPLES_PER_SERIES } from '../lib/telemetry-fill.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_P50_MS = 20;
const HOUR_MS = 3_600_000;

const SIZES: Record<Size, { rows: number; warmup: number; queries: number; rawQueries: number }> = {
  smoke: { rows: ROWS_PER_THING, warmup: 3, queries: 10, rawQueries: 2 },
  short: { rows: 1_000_000, warmup: 30, queries: 200, rawQueries: 10 },
  full: { rows: 10_000_000, warmup: 100, queries: 1_000, rawQueries: 20 },
};

const QUERY = `query($t: ID!, $from: DateTime!, $to: DateTime!) {
  telemetry(thingId: $t, name: "temperature", from: $from, to: $to, every: "1h", aggregate: AVG) { time value }
}`;

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  const things = Math.ceil(size.rows / ROWS_PER_THING);
  ctx.log('starting Telly');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  const account = await provisionDevices(telly, 1, ctx.signal);
  const queried = account.devices[0]!;
  const pool = new pg.Pool({ connectionString: telly.databaseUrl, max: 2 });
  try {
    const to = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS);
    const from = new Date(to.getTime() - SAMPLES_PER_SERIES * 60_000);
    ctx.log(`filling ${things * ROWS_PER_THING} rows for ${things} things`);
    const fillStarted = performance.now();
    for (let i = 0; i < things; i++) {
      ctx.signal.throwIfAborted();
      const thingId = i === 0 ? queried.thingId : randomUUID();
      await fillThing(
        pool,
        { tenantId: account.tenantId, channelId: account.channelId, thingId, seqBase: i * 1_000_000 },
        to,
      );
      if ((i + 1) % 10 === 0) ctx.log(`  ${i + 1}/${things} things`);
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    ctx.log('analyzing');
    await pool.query('ANALYZE telemetry');
    await pool.query('VACUUM (ANALYZE) telemetry_rollup_1h, telemetry_rollup_1m, telemetry_latest');
    const { rows: counts } = await pool.query<{ rows: string }>('SELECT count(*) AS rows FROM telemetry');
    const tableRows = Number(counts[0]?.rows);

    const token = await logIn(telly.platform.apiUrl, account.email, account.password, ctx.signal);
    const variables = { t: queried.thingId, from: from.toISOString(), to: to.toISOString() };
    const queries = new TelemetryQueries(pool);
    const filter = { tenantId: account.tenantId, thingId: queried.thingId, name: 'temperature', from, to };
    const viaGraphql = () =>
      telly.platform.gql<{ telemetry: { time: string; value: number }[] }>(QUERY, variables, token);
    const viaSql = () => queries.aggregate(filter, 'AVG', 3_600);

    // the answers must agree with each other and with the raw rows before anything is timed
    const [graphqlAnswer, sqlAnswer, rawAnswer] = await Promise.all([
      viaGraphql(),
      viaSql(),
      queries.aggregate(filter, 'AVG', 3_600, { source: 'raw' }),
    ]);
    if (sqlAnswer.source !== 'telemetry_rollup_1h')
      throw new Error(`answered from ${sqlAnswer.source}, not the 1h rollup`);
    const buckets = graphqlAnswer.telemetry.length;
    if (buckets !== 30 * 24 || sqlAnswer.rows.length !== buckets || rawAnswer.rows.length !== buckets)
      throw new Error(
        `expected 720 hourly buckets, got ${buckets} / ${sqlAnswer.rows.length} / ${rawAnswer.rows.length}`,
      );
    const maxDifference = Math.max(
      ...rawAnswer.rows.map((raw, i) =>
        Math.max(
          Math.abs((raw.value ?? 0) - (sqlAnswer.rows[i]?.value ?? Number.NaN)),
          Math.abs((raw.value ?? 0) - (graphqlAnswer.telemetry[i]?.value ?? Number.NaN)),
        ),
      ),
    );
    if (!(maxDifference < 1e-9)) throw new Error(`rollup and raw answers differ by up to ${maxDifference}`);

    ctx.log(`timing ${size.queries} queries each way (after ${size.warmup} warm-up)`);
    const graphql = new LatencyHistogram();
    const sql = new LatencyHistogram();
    const time = async (f: () => Promise<unknown>, into?: LatencyHistogram) => {
      const started = performance.now();
      await f();
      into?.record(performance.now() - started);
    };
    for (let i = 0; i < size.warmup + size.queries; i++) {
      ctx.signal.throwIfAborted();
      const measured = i >= size.warmup;
      // alternate which goes first so that neither always finds the other's warm caches
      const pair = i % 2 === 0 ? [viaGraphql, viaSql] : [viaSql, viaGraphql];
      for (const f of pair) await time(f, measured ? (f === viaGraphql ? graphql : sql) : undefined);
    }
    const raw = new LatencyHistogram();
    for (let i = 0; i < size.rawQueries; i++) {
      await time(() => queries.aggregate(filter, 'AVG', 3_600, { source: 'raw' }), raw);
    }
    const g = graphql.summary();
    const s = sql.summary();
    return {
      telly: { label: 'GraphQL p50', value: g.p50, unit: 'ms' },
      reference: {
        label: 'same query in SQL (rollup) p50',
        value: s.p50,
        unit: 'ms',
        kind: 'measured' as const,
      },
      ratio: round(g.p50 / s.p50),
      met: g.p50 <= TARGET_P50_MS,
      verdict: `p50 ${g.p50} ms ${g.p50 <= TARGET_P50_MS ? '≤' : '>'} ${TARGET_P50_MS} ms`,
      details: {
        settings: {
          tableRows,
          things,
          seriesPerThing: 3,
          samplesPerSeries: SAMPLES_PER_SERIES,
          range: `${from.toISOString()} – ${to.toISOString()}`,
          buckets,
          warmup: size.warmup,
          queries: size.queries,
        },
        fillSeconds: round(fillSeconds),
        graphqlMs: g,
        sqlRollupMs: s,
        sqlRawMs: raw.summary(),
        rawRowsAggregated: SAMPLES_PER_SERIES,
        rollupMatchesRaw: true,
      },
      versions: telly.versions,
    };
  } finally {
    await pool.end();
  }
}

export const query: Scenario = {
  name: 'query',
  title: '30-day hourly aggregate, 10M rows',
  target: `p50 ≤ ${TARGET_P50_MS} ms`,
  reference: 'none in the budget; the same query directly in SQL shown beside it',
  run: runScenario,
};
