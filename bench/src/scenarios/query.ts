// One-year hourly aggregate: one thing's `telemetrySeries(every: "1h", aggregate: AVG)` over 365
// days (8,760 buckets) through GraphQL, in a telemetry table of 100M rows spread over 11 things with a
// reading every 10 s per series (short: 1.6M rows, one thing, a reading a minute), filled directly
// (lib/telemetry-fill.ts). The budget names no reference; the same query run
// directly against Postgres by @telly/telemetry-pg's TelemetryQueries (the rollup SQL the API
// runs) is measured beside it, alternating with it and with the same buckets as `telemetry` (one
// object per bucket); the raw-rows aggregate is shown for context.
import { randomUUID } from 'node:crypto';
import { TelemetryQueries } from '@telly/telemetry-pg';
import pg from 'pg';
import { LatencyHistogram } from '../lib/histogram.ts';
import { logIn } from '../lib/simulator.ts';
import { round } from '../lib/stats.ts';
import { type FilledThing, fillThing, SERIES } from '../lib/telemetry-fill.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_P50_MS = 20;
const HOUR_MS = 3_600_000;
const DAYS = 365;
const BUCKETS = DAYS * 24;

/** At least `rows` in all, every thing with a year of readings, one every `stepSeconds` per series. */
const SIZES: Record<
  Size,
  { rows: number; stepSeconds: number; warmup: number; queries: number; rawQueries: number }
> = {
  smoke: { rows: 1, stepSeconds: 3_600, warmup: 3, queries: 10, rawQueries: 2 },
  short: { rows: 1, stepSeconds: 60, warmup: 30, queries: 200, rawQueries: 5 },
  full: { rows: 100_000_000, stepSeconds: 10, warmup: 100, queries: 1_000, rawQueries: 10 },
};
/** Log positions per thing: more than its samples per series. */
const SEQS_PER_THING = 10_000_000;
/** Things filled at once. */
const FILL_CONNECTIONS = 2;

const SERIES_QUERY = `query($t: ID!, $from: DateTime!, $to: DateTime!) {
  telemetrySeries(thingId: $t, name: "temperature", from: $from, to: $to, every: "1h", aggregate: AVG) {
    times values
  }
}`;
const POINTS_QUERY = `query($t: ID!, $from: DateTime!, $to: DateTime!) {
  telemetry(thingId: $t, name: "temperature", from: $from, to: $to, every: "1h", aggregate: AVG) { time value }
}`;

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  const samplesPerSeries = (DAYS * 86_400) / size.stepSeconds;
  const rowsPerThing = samplesPerSeries * SERIES.length;
  const things = Math.ceil(size.rows / rowsPerThing);
  ctx.log('starting Telly');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  const account = await provisionDevices(telly, 1, ctx.signal);
  const queried = account.devices[0]!;
  // each fill derives its latest values and two rollups side by side
  const pool = new pg.Pool({ connectionString: telly.databaseUrl, max: 3 * FILL_CONNECTIONS });
  try {
    const to = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS);
    const from = new Date(to.getTime() - DAYS * 86_400_000);
    ctx.log(`filling ${things * rowsPerThing} rows for ${things} things`);
    const fillStarted = performance.now();
    const span = { days: DAYS, stepSeconds: size.stepSeconds };
    const thing = (i: number): FilledThing => ({
      tenantId: account.tenantId,
      channelId: account.channelId,
      thingId: i === 0 ? queried.thingId : randomUUID(),
      seqBase: i * SEQS_PER_THING,
    });
    // the queried thing alone first (it creates the month partitions), then the others side by side
    await fillThing(pool, thing(0), to, span);
    let next = 1;
    let filled = 1;
    await Promise.all(
      Array.from({ length: FILL_CONNECTIONS }, async () => {
        for (let i = next++; i < things; i = next++) {
          ctx.signal.throwIfAborted();
          await fillThing(pool, thing(i), to, span);
          if (++filled % 8 === 0) ctx.log(`  ${filled}/${things} things`);
        }
      }),
    );
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
    const viaSeries = () =>
      telly.platform.gql<{ telemetrySeries: { times: number[]; values: number[] }[] }>(
        SERIES_QUERY,
        variables,
        token,
      );
    const viaPoints = () =>
      telly.platform.gql<{ telemetry: { time: string; value: number }[] }>(POINTS_QUERY, variables, token);
    const viaSql = () => queries.aggregate(filter, 'AVG', 3_600);

    // the answers must agree with each other and with the raw rows before anything is timed
    const [seriesAnswer, pointsAnswer, sqlAnswer, rawAnswer] = await Promise.all([
      viaSeries(),
      viaPoints(),
      viaSql(),
      queries.aggregate(filter, 'AVG', 3_600, { source: 'raw' }),
    ]);
    if (sqlAnswer.source !== 'telemetry_rollup_1h')
      throw new Error(`answered from ${sqlAnswer.source}, not the 1h rollup`);
    const series = seriesAnswer.telemetrySeries[0] ?? { times: [], values: [] };
    const lengths = [
      series.values.length,
      pointsAnswer.telemetry.length,
      sqlAnswer.rows.length,
      rawAnswer.rows.length,
    ];
    if (seriesAnswer.telemetrySeries.length !== 1 || lengths.some((n) => n !== BUCKETS))
      throw new Error(`expected ${BUCKETS} hourly buckets of one series, got ${lengths.join(' / ')}`);
    const maxDifference = Math.max(
      ...rawAnswer.rows.map((raw, i) => {
        const value = raw.value ?? 0;
        if (series.times[i] !== raw.time.getTime()) return Number.POSITIVE_INFINITY;
        return Math.max(
          Math.abs(value - (sqlAnswer.rows[i]?.value ?? Number.NaN)),
          Math.abs(value - (pointsAnswer.telemetry[i]?.value ?? Number.NaN)),
          Math.abs(value - (series.values[i] ?? Number.NaN)),
        );
      }),
    );
    if (!(maxDifference < 1e-9)) throw new Error(`rollup and raw answers differ by up to ${maxDifference}`);

    ctx.log(`timing ${size.queries} queries each way (after ${size.warmup} warm-up)`);
    const seriesMs = new LatencyHistogram();
    const pointsMs = new LatencyHistogram();
    const sql = new LatencyHistogram();
    const time = async (f: () => Promise<unknown>, into?: LatencyHistogram) => {
      const started = performance.now();
      await f();
      into?.record(performance.now() - started);
    };
    for (let i = 0; i < size.warmup + size.queries; i++) {
      ctx.signal.throwIfAborted();
      const measured = i >= size.warmup;
      // rotate which goes first so that none always finds the others' warm caches
      const ways: [() => Promise<unknown>, LatencyHistogram][] = [
        [viaSeries, seriesMs],
        [viaPoints, pointsMs],
        [viaSql, sql],
      ];
      for (let j = 0; j < ways.length; j++) {
        const [f, into] = ways[(i + j) % ways.length]!;
        await time(f, measured ? into : undefined);
      }
    }
    const raw = new LatencyHistogram();
    for (let i = 0; i < size.rawQueries; i++) {
      await time(() => queries.aggregate(filter, 'AVG', 3_600, { source: 'raw' }), raw);
    }
    const g = seriesMs.summary();
    const p = pointsMs.summary();
    const s = sql.summary();
    return {
      telly: { label: 'GraphQL telemetrySeries p50', value: g.p50, unit: 'ms' },
      reference: {
        label: 'same query in SQL (rollup) p50',
        value: s.p50,
        unit: 'ms',
        kind: 'measured' as const,
      },
      ratio: round(g.p50 / s.p50),
      met: g.p50 <= TARGET_P50_MS,
      verdict: `p50 ${g.p50} ms ${g.p50 <= TARGET_P50_MS ? '≤' : '>'} ${TARGET_P50_MS} ms (one object per bucket: ${p.p50} ms)`,
      details: {
        settings: {
          tableRows,
          things,
          seriesPerThing: 3,
          samplesPerSeries,
          stepSeconds: size.stepSeconds,
          range: `${from.toISOString()} – ${to.toISOString()}`,
          buckets: BUCKETS,
          warmup: size.warmup,
          queries: size.queries,
        },
        fillSeconds: round(fillSeconds),
        graphqlSeriesMs: g,
        graphqlPointsMs: p,
        sqlRollupMs: s,
        sqlRawMs: raw.summary(),
        rawRowsAggregated: samplesPerSeries,
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
  title: 'One-year hourly aggregate, 100M rows',
  target: `p50 ≤ ${TARGET_P50_MS} ms`,
  reference: 'none in the budget; the same query directly in SQL shown beside it',
  run: runScenario,
};
