// Property: whatever a bridge accepts (decoded, then `checkAccepted`), the Influx projection
// writes to a real influxd, and every point reads back (Flux) as it was sent. Bounded in time
// by TELLY_FUZZ_MS; skipped where setup.sh cannot build influxd.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InfluxDB, type QueryApi } from '@influxdata/influxdb-client';
import { findInfluxd, Influxd } from '@telly/harness';
import { messageSubject, STORABLE, type TelemetryPoint, telemetryPoints } from '@telly/schemas';
import { acceptedBody, resolvedPackArbitrary } from '@telly/schemas/testing';
import fc from 'fast-check';
import { INFLUX_FIELDS, INFLUX_MEASUREMENT, telemetryLine } from './mapping.ts';
import { InfluxWriter } from './writer.ts';

const BUDGET_MS = Number(process.env.TELLY_FUZZ_MS ?? 3000);
const TENANT = '0191e5a0-0000-7000-8000-0000000000f1';
const CHANNEL = '0191e5a0-0000-7000-8000-0000000000f2';
const RECEIVED_MS = Date.UTC(2026, 11, 1);

/** Why influxd is not here, when setup.sh could not build it on this machine (not when it failed). */
const unavailable = (() => {
  try {
    return findInfluxd().unavailable;
  } catch {
    return undefined; // the build failed where it works: Influxd.start fails the test, naming why
  }
})();

let influxd: Influxd;
let writer: InfluxWriter;
let queryApi: QueryApi;

before(async () => {
  if (unavailable !== undefined) return;
  influxd = await Influxd.start();
  const { url, token, org, bucket } = influxd;
  writer = new InfluxWriter({ url, token, org, bucket });
  queryApi = new InfluxDB({ url, token }).getQueryApi(org);
});
after(async () => {
  writer?.abort();
  await influxd?.stop();
});

type Value = number | string | boolean;
/** One field of one point: [name, unit tag, subtopic tag, ms, field, value]. */
type Row = [string, string | undefined, string | undefined, number, string, Value];

/** As documented in mapping.ts: a tag value loses trailing backslashes, and an empty one is no tag. */
const tag = (value: string | undefined) => value?.replace(/\\+$/, '') || undefined;

/**
 * What InfluxDB holds after writing `points` in order: a point is its series and ms, its fields
 * merged, a field written again replaced (last write wins).
 */
function expectedRows(points: readonly TelemetryPoint[]): Row[] {
  const rows = new Map<string, Row>();
  for (const p of points) {
    const fields: [string, Value | undefined][] = [
      [INFLUX_FIELDS.value, p.value],
      [INFLUX_FIELDS.stringValue, p.stringValue],
      [INFLUX_FIELDS.boolValue, p.boolValue],
      [INFLUX_FIELDS.dataValue, p.dataValue],
      [INFLUX_FIELDS.sum, p.sum],
    ];
    for (const [field, value] of fields) {
      if (value === undefined) continue;
      const row: Row = [p.name, tag(p.unit), tag(p.subtopic), p.timeMs, field, value];
      rows.set(JSON.stringify(row.slice(0, 5)), row);
    }
  }
  return sortRows([...rows.values()]);
}

const sortRows = (rows: Row[]) =>
  rows.sort((a, b) =>
    JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0,
  );

/** The last instant InfluxDB can hold (2^63 - 1 ns): past {@link STORABLE}.maxTimeMs, a range's exclusive end. */
const INFLUX_MAX_TIME = '2262-04-11T23:47:16.854775807Z';

/**
 * Every field of every point of `thing`, read back with Flux over the whole storable range. Each
 * value comes as its JSON: Flux answers in CSV with CRLF line ends, which turns a `\n` inside a
 * string into `\r\n` and drops a lone `\r` on the way (what is stored is unchanged).
 */
async function readRows(thing: string): Promise<Row[]> {
  const rows = await queryApi.collectRows<Record<string, unknown>>(
    `import "json"
    from(bucket: ${JSON.stringify(influxd.bucket)})
      |> range(start: 1970-01-01T00:00:00Z, stop: ${INFLUX_MAX_TIME})
      |> filter(fn: (r) => r._measurement == ${JSON.stringify(INFLUX_MEASUREMENT)} and r.thing == ${JSON.stringify(thing)})
      |> map(fn: (r) => ({r with _value: string(v: json.encode(v: r._value))}))`,
  );
  const present = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return sortRows(
    rows.map((r) => {
      assert.deepEqual([r.tenant, r.channel], [TENANT, CHANNEL]);
      return [
        String(r.name),
        present(r.unit),
        present(r.subtopic),
        Date.parse(String(r._time)),
        String(r._field),
        JSON.parse(String(r._value)) as Value,
      ];
    }),
  );
}

test(
  'every accepted pack is written to a real influxd and reads back unchanged',
  unavailable === undefined ? {} : { skip: unavailable },
  async (t) => {
    let stored = 0;
    let fields = 0;
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(
        resolvedPackArbitrary(),
        fc.constantFrom<string[]>([], ['floor-1', 'room=2'], ['a~b', 'c@d:e_']),
        async (pack, subtopic) => {
          const body = acceptedBody(pack, RECEIVED_MS);
          if (body === undefined) return;
          seq++;
          // a thing of its own per pack: what is read back is this pack's points only
          const thing = `0191e5a0-0000-7000-8000-${seq.toString(16).padStart(12, '0')}`;
          const points = telemetryPoints({
            subject: messageSubject({ tenant: TENANT, channel: CHANNEL, thing, subtopic }),
            seq,
            contentType: 'application/senml+json',
            receivedMs: RECEIVED_MS,
            body,
          });
          const lines = points.map((p) => {
            const line = telemetryLine(p);
            assert.ok(line !== undefined, 'a value or a sum gives a field');
            return line;
          });
          await writer.write(lines);
          const expected = expectedRows(points);
          assert.deepEqual(await readRows(thing), expected);
          stored++;
          fields += expected.length;
        },
      ),
      {
        numRuns: 1_000_000,
        interruptAfterTimeLimit: BUDGET_MS,
        markInterruptAsFailure: false,
        // the edges: the last storable ms, the longest string field, escapes, one ms written twice
        examples: [
          [[{ n: 'end', t: STORABLE.maxTimeMs / 1000, vs: 'tab\there, new\nline, \\N "q"' }], []],
          [[{ n: 'epoch', t: STORABLE.minTimeMs / 1000, u: 'kg m/s,x=1', v: STORABLE.maxMagnitude }], []],
          [[{ n: 'long', t: 1.7e9, vs: 'é'.repeat(Math.floor(STORABLE.maxTextBytes / 2)) }], ['floor-1']],
          [
            [
              { n: 'twice', t: 1.7e9, u: 'odd\\', v: STORABLE.minMagnitude },
              { n: 'twice', t: 1.7e9, u: 'odd', vb: true },
              { n: 'twice', t: 1.7e9, u: 'odd', v: -1, s: 2 },
            ],
            ['a~b'],
          ],
        ],
      },
    );
    t.diagnostic(`${stored} accepted packs, ${fields} fields read back`);
    assert.ok(stored > 10, `only ${stored} packs were accepted: the arbitrary should give more`);
  },
);
