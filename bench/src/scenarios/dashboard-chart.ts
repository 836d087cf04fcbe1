// One year in the dashboard: the history page's "Last year" (daily averages from the rollups)
// drawn in Debian's Chromium, from choosing the range to the first frame after every chart
// was drawn. The thing has a year of readings of its three sensors (filled directly, one every
// 10 minutes, with their 1-minute and 1-hour rollups; lib/telemetry-fill.ts). Beside it, in
// the same page and alternating: the very GraphQL request the page sends, fetched and parsed
// without drawing, so the ratio is what rendering adds.
import pg from 'pg';
import { alternate } from '../lib/alternate.ts';
import { LatencyHistogram } from '../lib/histogram.ts';
import { logIn } from '../lib/simulator.ts';
import { round } from '../lib/stats.ts';
import { fillThing, SERIES } from '../lib/telemetry-fill.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_P50_MS = 300;
const DAY_MS = 86_400_000;

const SIZES: Record<Size, { warmup: number; runs: number }> = {
  smoke: { warmup: 1, runs: 3 },
  short: { warmup: 3, runs: 20 },
  full: { warmup: 5, runs: 50 },
};

const HISTORY = `query History($t: ID!, $from: DateTime, $to: DateTime, $every: String, $agg: Aggregate) {
  telemetry(thingId: $t, from: $from, to: $to, every: $every, aggregate: $agg) { time name value unit }
}`;

/** What the page asks for "Last year" (web/src/app/history-range.ts): daily buckets, cut on days. */
const yearVariables = (thingId: string) => {
  const now = Date.now();
  return {
    t: thingId,
    from: new Date(Math.floor((now - 365 * DAY_MS) / DAY_MS) * DAY_MS).toISOString(),
    to: new Date(Math.ceil((now + 1) / DAY_MS) * DAY_MS).toISOString(),
    every: '1d',
    agg: 'AVG',
  };
};

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  // the browser's support lives with the dashboard's tests
  const { launchChromium, timeGraphqlInPage, timeHistoryRange } = await import('@telly/web/testing');
  ctx.log('starting Telly');
  await using telly = await startTelly({ profileDir: ctx.profileDir, signal: ctx.signal });
  const account = await provisionDevices(telly, 1, ctx.signal);
  const thing = account.devices[0]!;
  const pool = new pg.Pool({ connectionString: telly.databaseUrl, max: 2 });
  const browser = await launchChromium();
  try {
    ctx.log('filling a year of readings (3 sensors, every 10 minutes) and their rollups');
    const to = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    await fillThing(
      pool,
      { tenantId: account.tenantId, channelId: account.channelId, thingId: thing.thingId, seqBase: 0 },
      to,
      { days: 366, stepSeconds: 600 },
    );
    await pool.query('VACUUM (ANALYZE) telemetry, telemetry_rollup_1h, telemetry_rollup_1m');

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${telly.platform.apiUrl}/`);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill(account.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Things' }).waitFor();
    await page.goto(`${telly.platform.apiUrl}/#/things/${thing.thingId}/data`);
    await page.getByRole('radio', { name: 'History' }).check();
    await page.locator('[data-testid="history"][data-loaded="true"]').waitFor();
    const token = await logIn(telly.platform.apiUrl, account.email, account.password, ctx.signal);

    ctx.log(`drawing the year ${size.runs} times (after ${size.warmup} warm-up), the bare request beside it`);
    const { telly: drawn, reference: fetched } = await alternate(
      size.warmup + size.runs,
      async () => {
        ctx.signal.throwIfAborted();
        // back to the last hour (not timed), so that the year is drawn afresh
        await page.getByTestId('range').selectOption('1h');
        await page.locator('[data-testid="history"][data-every="1m"][data-loaded="true"]').waitFor();
        return timeHistoryRange(page, '1y', SERIES.length, 300);
      },
      () => timeGraphqlInPage(page, token, HISTORY, yearVariables(thing.thingId)),
      () => {},
    );
    const chart = new LatencyHistogram();
    const request = new LatencyHistogram();
    for (const ms of drawn.slice(size.warmup)) chart.record(ms);
    for (const ms of fetched.slice(size.warmup)) request.record(ms);
    const points = Number(await page.locator('figure.chart').first().getAttribute('data-drawn-points'));
    const c = chart.summary();
    const r = request.summary();
    return {
      telly: { label: 'one year drawn, p50', value: c.p50, unit: 'ms' },
      reference: {
        label: 'the same request, not drawn, p50',
        value: r.p50,
        unit: 'ms',
        kind: 'measured' as const,
      },
      ratio: round(c.p50 / r.p50),
      met: c.p50 <= TARGET_P50_MS,
      verdict: `p50 ${c.p50} ms ${c.p50 <= TARGET_P50_MS ? '≤' : '>'} ${TARGET_P50_MS} ms`,
      details: {
        settings: {
          sensors: SERIES.length,
          pointsPerChart: points,
          every: '1d',
          aggregate: 'AVG',
          samplesEveryMinutes: 10,
          days: 366,
          warmup: size.warmup,
          runs: size.runs,
          browser: `Chromium ${browser.version()}`,
        },
        chartMs: c,
        requestMs: r,
      },
      versions: telly.versions,
    };
  } finally {
    await browser.close();
    await pool.end();
  }
}

export const dashboardChart: Scenario = {
  name: 'dashboard-chart',
  title: 'one year of a thing in the dashboard, drawn in Chromium',
  target: `p50 ≤ ${TARGET_P50_MS} ms`,
  reference: 'the same GraphQL request from the same page, not drawn',
  run: runScenario,
};
