// The `telemetry` query's arguments against a real NATS and Postgres, with points stored by the
// telemetry-pg projection: buckets need both `every` and `aggregate`, `last` bounds buckets too,
// weeks are ISO weeks, day buckets follow a time zone, and bad input is refused with the argument
// to fix and an example; `telemetrySeries` answers the same numbers as columns.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@telly/harness';
import { createLogger, type RunningProcessor, runProcessor } from '@telly/runtime';
import { telemetryProjection } from '@telly/telemetry-pg';
import { v7 } from 'uuid';
import {
  gql,
  ok,
  publishReading,
  type Signed,
  type Stack,
  send,
  signup,
  startStack,
} from './testing/stack.ts';
import type { GraphqlApp } from './yoga.ts';

let stack: Stack;
let app: GraphqlApp;
let owner: Signed;
let projection: RunningProcessor;
const at = { tenantId: '', channelId: v7(), thingId: v7() };

/** One reading an hour, 27 March 2026 00:00 UTC to 31 March: Berlin moves to CEST on the 29th. */
const START_S = Date.UTC(2026, 2, 27) / 1000;
const HOURS = 4 * 24;

before(async () => {
  stack = await startStack();
  app = stack.api.app;
  owner = await signup(app, `telemetry-${Date.now()}@example.com`, 'telemetry-queries');
  at.tenantId = owner.user.tenant.id;
  projection = await runProcessor(telemetryProjection(stack.pool), {
    nc: stack.nc,
    logger: createLogger('telemetry-query-test', { LOG_LEVEL: 'error' }),
  });
  await publishReading(
    stack.nc,
    at,
    Array.from({ length: HOURS }, (_, i) => ({ n: 'temp', v: i, t: START_S + i * 3_600 })),
  );
  await waitFor(async () => ((await points({ last: 1 })).length === 1 ? true : undefined));
});
after(async () => {
  await projection?.stop();
  await stack?.stop();
});

const TELEMETRY = `query($t: ID, $from: DateTime, $to: DateTime, $last: Int, $limit: Int, $every: String,
  $agg: Aggregate, $tz: String, $name: String) {
  telemetry(thingId: $t, from: $from, to: $to, last: $last, limit: $limit, every: $every, aggregate: $agg,
    timeZone: $tz, name: $name) { time name value }
}`;

type Args = Record<string, unknown>;

async function points(args: Args): Promise<{ time: string; value: number }[]> {
  const data = await ok<{ telemetry: { time: string; value: number }[] }>(
    app,
    TELEMETRY,
    { t: at.thingId, ...args },
    owner.accessToken,
  );
  return data.telemetry;
}

async function refusal(args: Args): Promise<{ code: unknown; field: unknown; message: string }> {
  const res = await gql(app, TELEMETRY, { t: at.thingId, ...args }, owner.accessToken);
  const error = res.errors?.[0];
  assert.ok(error, `refused: ${JSON.stringify(args)}`);
  return { code: error.extensions?.code, field: error.extensions?.field, message: error.message };
}

describe('buckets', () => {
  test('every needs aggregate and aggregate needs every, each refusal naming the missing one', async () => {
    const noAggregate = await refusal({ every: '1h' });
    assert.equal(noAggregate.code, 'VALIDATION_FAILED');
    assert.equal(noAggregate.field, 'aggregate');
    assert.match(noAggregate.message, /aggregate: is needed with every: one of AVG, MIN/);
    const noEvery = await refusal({ agg: 'MAX' });
    assert.equal(noEvery.field, 'every');
    assert.match(noEvery.message, /"1h"/);
    assert.equal((await refusal({ last: 2, limit: 2 })).field, 'limit');
  });

  test('last with every gives the newest buckets; limit the first ones', async () => {
    assert.deepEqual(await points({ every: '1d', agg: 'COUNT', last: 2 }), [
      { time: '2026-03-29T00:00:00.000Z', name: 'temp', value: 24 },
      { time: '2026-03-30T00:00:00.000Z', name: 'temp', value: 24 },
    ]);
    assert.deepEqual(await points({ every: '1h', agg: 'MAX', limit: 1 }), [
      { time: '2026-03-27T00:00:00.000Z', name: 'temp', value: 0 },
    ]);
    assert.deepEqual(
      (await points({ last: 3 })).map((p) => p.value),
      [HOURS - 3, HOURS - 2, HOURS - 1],
    );
  });

  test('weekly buckets start on Monday (ISO weeks), in UTC or in the time zone', async () => {
    const utc = await points({ every: '1w', agg: 'COUNT' });
    assert.deepEqual(
      utc.map((p) => [p.time, p.value]),
      [
        ['2026-03-23T00:00:00.000Z', 72], // Monday 23 March
        ['2026-03-30T00:00:00.000Z', 24],
      ],
    );
    const berlin = await points({ every: '1w', agg: 'COUNT', tz: 'Europe/Berlin' });
    assert.deepEqual(
      berlin.map((p) => [p.time, p.value]),
      [
        ['2026-03-22T23:00:00.000Z', 70], // Monday 23 March 00:00 CET
        ['2026-03-29T22:00:00.000Z', 26], // Monday 30 March 00:00 CEST
      ],
    );
  });

  test('day buckets in a time zone start at local midnight, whatever the day’s offset', async () => {
    const days = await points({ every: '1d', agg: 'COUNT', tz: 'Europe/Berlin' });
    assert.deepEqual(
      days.map((p) => [p.time, p.value]),
      [
        ['2026-03-26T23:00:00.000Z', 23],
        ['2026-03-27T23:00:00.000Z', 24],
        ['2026-03-28T23:00:00.000Z', 23], // 29 March: 23 hours long
        ['2026-03-29T22:00:00.000Z', 24],
        ['2026-03-30T22:00:00.000Z', 2],
      ],
    );
    // a zone whose offset is not whole hours, from the minute rollup: the same as from raw points
    const kolkata = await points({ every: '1d', agg: 'COUNT', tz: 'Asia/Kolkata' });
    assert.equal(kolkata[0]?.time, '2026-03-26T18:30:00.000Z');
    assert.equal(
      kolkata.reduce((n, p) => n + p.value, 0),
      HOURS,
    );
  });

  test('a time zone is refused unless it is an IANA name and the buckets are whole days', async () => {
    for (const tz of ['Mars/Olympus_Mons', '+01:00', 'CET; DROP TABLE telemetry', 'x'.repeat(100)]) {
      const refused = await refusal({ every: '1d', agg: 'AVG', tz });
      assert.equal(refused.field, 'timeZone', tz);
      assert.match(refused.message, /IANA time zone name, such as "Europe\/Berlin"/);
    }
    assert.match((await refusal({ every: '1h', agg: 'AVG', tz: 'Europe/Berlin' })).message, /whole days/);
    assert.equal((await refusal({ tz: 'Europe/Berlin' })).field, 'timeZone');
  });
});

const SERIES = `query($t: ID, $last: Int, $limit: Int, $every: String, $agg: Aggregate, $tz: String,
  $name: String) {
  telemetrySeries(thingId: $t, last: $last, limit: $limit, every: $every, aggregate: $agg, timeZone: $tz,
    name: $name) {
    name times values
  }
}`;

type SeriesAnswer = { name: string; times: number[]; values: number[] }[];

async function series(args: Args): Promise<SeriesAnswer> {
  const data = await ok<{ telemetrySeries: SeriesAnswer }>(
    app,
    SERIES,
    { t: at.thingId, ...args },
    owner.accessToken,
  );
  return data.telemetrySeries;
}

describe('series', () => {
  test('telemetrySeries answers the points of telemetry as a column of epoch ms and one of values', async () => {
    for (const args of [
      {},
      { last: 5 },
      { limit: 3 },
      { every: '1h', agg: 'AVG', last: 24 },
      { every: '1d', agg: 'COUNT', tz: 'Europe/Berlin' },
      // one name asked for (read without a name column), or an empty one (none)
      { every: '1h', agg: 'MAX', name: 'temp' },
      { every: '1d', agg: 'COUNT', tz: 'Europe/Berlin', name: 'temp' },
      { every: '1h', agg: 'MIN', name: '' },
    ]) {
      const expected = await points(args);
      assert.ok(expected.length > 0);
      assert.deepEqual(
        await series(args),
        [
          {
            name: 'temp',
            times: expected.map((p) => Date.parse(p.time)),
            values: expected.map((p) => p.value),
          },
        ],
        JSON.stringify(args),
      );
    }
  });

  test('raw series hold numeric points only, one series per name by name; last counts numbers', async () => {
    const thing = { ...at, thingId: v7() };
    const t = START_S + 0.25; // milliseconds come back exact
    await publishReading(stack.nc, thing, [
      { n: 'temp', v: 21.5, t },
      { n: 'door', vs: 'open', t: t + 1 },
      { n: 'hum', v: 40, t: t + 2 },
      { n: 'temp', v: 22, t: t + 3 },
    ]);
    const answer = await waitFor(async () => {
      const s = await series({ t: thing.thingId });
      return s.length === 2 ? s : undefined;
    });
    assert.deepEqual(answer, [
      { name: 'hum', times: [(t + 2) * 1000], values: [40] },
      { name: 'temp', times: [t * 1000, (t + 3) * 1000], values: [21.5, 22] },
    ]);
    // the newest two numbers, not the text of door between them
    assert.deepEqual(
      (await series({ t: thing.thingId, last: 2 })).map((s) => [s.name, s.values]),
      [
        ['hum', [40]],
        ['temp', [22]],
      ],
    );
  });

  test('refuses what telemetry refuses, and a malformed id answers no series', async () => {
    const res = await gql(app, SERIES, { t: at.thingId, every: '1h' }, owner.accessToken);
    assert.equal(res.errors?.[0]?.extensions?.field, 'aggregate');
    assert.deepEqual(await series({ t: 'not-an-id' }), []);
    assert.deepEqual(await series({ t: v7(), every: '1d', agg: 'AVG' }), []);
  });
});

describe('input', () => {
  test('a bare date is refused with an example of a date-time, as a variable or inline', async () => {
    const variable = await refusal({ from: '2026-01-01' });
    assert.match(variable.message, /\$from/);
    assert.match(variable.message, /such as "2026-01-01T00:00:00Z"/);
    const inline = await gql(
      app,
      `query($t: ID) { telemetry(thingId: $t, from: "2026-01-01") { value } }`,
      { t: at.thingId },
      owner.accessToken,
    );
    assert.match(inline.errors?.[0]?.message ?? '', /such as "2026-01-01T00:00:00Z".*got "2026-01-01"/);
    const csv = await send(app, `/export/telemetry.csv?thingId=${at.thingId}&from=2026-01-01`, {
      headers: { authorization: `Bearer ${owner.accessToken}` },
    });
    assert.equal(csv.status, 400);
    assert.match(await csv.text(), /from must be an RFC 3339 date-time.*2026-01-01T00:00:00Z/);
  });

  test('a malformed id answers like an unknown one: an empty list, with buckets too', async () => {
    for (const args of [{}, { every: '1d', agg: 'AVG', tz: 'Europe/Berlin' }, { last: 5 }]) {
      assert.deepEqual(await points({ ...args, t: 'not-an-id' }), [], JSON.stringify(args));
      assert.deepEqual(await points({ ...args, t: v7() }), []);
    }
  });

  test('the CSV export takes every, aggregate and timeZone like the query', async () => {
    const csv = async (query: string) => {
      const res = await send(app, `/export/telemetry.csv?thingId=${at.thingId}&${query}`, {
        headers: { authorization: `Bearer ${owner.accessToken}` },
      });
      return { status: res.status, lines: (await res.text()).trim().split('\r\n') };
    };
    const daily = await csv('every=1d&aggregate=COUNT&timeZone=Europe/Berlin');
    assert.equal(daily.status, 200);
    assert.equal(daily.lines.length, 1 + 5);
    assert.match(daily.lines[3] ?? '', /^2026-03-28T23:00:00.000Z,.*,temp,,23,/);
    assert.equal((await csv('every=1h')).status, 400);
  });
});
