// Property tests, bounded in time: TELLY_FUZZ_MS (default 3000 ms) is shared by all properties.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from 'cbor2';
import fc from 'fast-check';
import { encodeBase64Url } from './base64url.ts';
import { decodeMessage } from './decode.ts';
import { encodeResolvedJson, encodeSenmlCbor } from './encode.ts';
import { isSenmlError } from './errors.ts';
import { parseSenmlCbor, parseSenmlJson } from './parse.ts';
import { resolveSenml } from './resolve.ts';
import type { ResolvedSenmlRecord, SenmlRecord } from './types.ts';

const PROPERTIES = 7;
const BUDGET_MS = Number(process.env.TELLY_FUZZ_MS ?? 3000) / PROPERTIES;
const settings = { numRuns: 1_000_000, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS)] };
const NOW = 1.7e9;
const CONTENT_TYPES = ['application/senml+json', 'application/senml+cbor', 'application/json'];

/** Runs `run`; the only thing it may throw is a SenmlError. */
function onlySenmlErrors(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!isSenmlError(err)) throw err;
  }
}

const decodeAll = (body: Uint8Array): void => {
  for (const type of CONTENT_TYPES) onlySenmlErrors(() => decodeMessage(type, body, { now: NOW }));
};

// Field values that are sometimes right and often wrong, to get past the type checks.
const fieldValue = fc.oneof(
  fc.double(),
  fc.integer({ min: -20, max: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:./_-]{0,6}$/),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 6 }),
  fc.bigInt(),
);
const typed = (right: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: right, weight: 20 }, { arbitrary: fieldValue, weight: 1 });
const number = fc.oneof(fc.double(), fc.integer({ min: -1e6, max: 2e9 }));
const looseFields: Record<string, fc.Arbitrary<unknown>> = {
  bn: typed(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:._-]{0,4}$/)),
  bt: typed(number),
  bu: typed(fc.string()),
  bv: typed(number),
  bs: typed(number),
  bver: typed(fc.integer({ min: 1, max: 11 })),
  n: typed(fc.stringMatching(/^[A-Za-z0-9:._-]{0,5}$/)),
  u: typed(fc.string()),
  s: typed(number),
  t: typed(number),
  ut: typed(number),
  v: typed(number),
  vs: typed(fc.string({ unit: 'binary' })),
  vb: typed(fc.boolean()),
  vd: typed(fc.uint8Array({ maxLength: 6 })),
  x_: fieldValue,
  x: fieldValue,
};
const valueLabels = ['v', 'vs', 'vb', 'vd'];
const looseRecord = fc
  .tuple(
    fc.subarray(['bn', 'bt', 'bu', 'bv', 'bs', 'bver', 'n', 'u', 's', 't', 'ut'], { maxLength: 4 }),
    fc.oneof(
      { arbitrary: fc.subarray(valueLabels, { minLength: 1, maxLength: 1 }), weight: 6 },
      { arbitrary: fc.subarray(valueLabels), weight: 1 },
    ),
    fc.oneof(
      { arbitrary: fc.constant([]), weight: 10 },
      { arbitrary: fc.subarray(['x_', 'x'], { minLength: 1 }), weight: 1 },
    ),
  )
  .chain((groups) =>
    fc.record(Object.fromEntries(groups.flat().map((k) => [k, looseFields[k] ?? fieldValue]))),
  );
const loosePack = fc.array(looseRecord, { maxLength: 6 });
// JSON has no bigint and carries `vd` as base64url text.
const toJson = (pack: unknown) =>
  JSON.stringify(pack, (_k, v) =>
    typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? encodeBase64Url(v) : v,
  );

describe('untrusted input only ever raises SenmlError', () => {
  test('arbitrary bytes, under every content type', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), decodeAll), settings);
  });

  test('arbitrary JSON text', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (json) => decodeAll(new TextEncoder().encode(json))),
      settings,
    );
  });

  test('arbitrary CBOR values', () => {
    const value = fc.anything({ maxDepth: 3, withMap: true, withBigInt: true, withTypedArray: true });
    fc.assert(
      fc.property(value, (anything) => {
        let body: Uint8Array;
        try {
          body = encode(anything);
        } catch {
          return; // not encodable: nothing to decode
        }
        onlySenmlErrors(() => parseSenmlCbor(body));
      }),
      settings,
    );
  });

  test('packs of SenML-like records with random field values, in JSON and CBOR', () => {
    fc.assert(
      fc.property(loosePack, fc.double(), (pack, now) => {
        const asCbor = pack.map((r) => new Map(Object.entries(r)));
        onlySenmlErrors(() =>
          resolveSenml(parseSenmlJson(toJson(pack)), { now: Number.isFinite(now) ? now : 0 }),
        );
        onlySenmlErrors(() => resolveSenml(parseSenmlCbor(encode(asCbor)), { now: NOW }));
      }),
      settings,
    );
  });
});

// Valid resolved packs: names by the §4.5.1 rule, absolute times, one value or a sum alone.
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x + 0);
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const value = fc.oneof(
  finite.map((v) => ({ v })),
  text.map((vs) => ({ vs })),
  fc.boolean().map((vb) => ({ vb })),
  fc.uint8Array({ maxLength: 12 }).map((bytes) => ({ vd: encodeBase64Url(bytes) })),
  fc.constant({}),
);
const resolvedRecord = fc
  .record(
    {
      n: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:./_-]{0,24}$/),
      u: text,
      t: fc.double({ min: 2 ** 28, noNaN: true, noDefaultInfinity: true }),
      s: finite,
      ut: finite,
    },
    { requiredKeys: ['n', 't'] },
  )
  .chain((record) => value.map((v): ResolvedSenmlRecord => ({ ...record, ...v })))
  .filter((record) => Object.keys(record).some((k) => ['v', 'vs', 'vb', 'vd', 's'].includes(k)));
const resolvedPack = fc
  .tuple(fc.array(resolvedRecord, { minLength: 1, maxLength: 8 }), fc.option(fc.integer({ min: 1, max: 9 })))
  .map(([records, bver]) => (bver === null ? records : records.map((r) => ({ ...r, bver }))));

describe('resolved packs round-trip unchanged', () => {
  test('through JSON: encodeResolvedJson → decode → resolve', () => {
    fc.assert(
      fc.property(resolvedPack, finite, (pack, now) => {
        const body = encodeResolvedJson(pack);
        assert.deepEqual(decodeMessage('application/senml+json', body, { now }).records, pack);
      }),
      settings,
    );
  });

  test('through CBOR: encodeSenmlCbor → decode → resolve', () => {
    fc.assert(
      fc.property(resolvedPack, finite, (pack, now) => {
        const body = encodeSenmlCbor(pack);
        assert.deepEqual(decodeMessage('application/senml+cbor', body, { now }).records, pack);
      }),
      settings,
    );
  });
});

// Raw packs using every base field, with moderate numbers so sums stay exact enough to compare.
const moderate = fc.double({ min: -1e6, max: 1e6, noNaN: true });
const rawRecord = fc.record(
  {
    bn: fc.stringMatching(/^[a-z0-9][a-z0-9:]{0,4}$/),
    bt: fc.oneof(moderate, fc.double({ min: 1e9, max: 2e9, noNaN: true })),
    bu: text,
    bv: moderate,
    bs: moderate,
    n: fc.stringMatching(/^[a-z0-9_./-]{1,6}$/),
    u: text,
    t: moderate,
    val: fc.oneof(
      moderate.map((v) => ({ v })),
      text.map((vs) => ({ vs })),
      moderate.map((s) => ({ s })),
    ),
  },
  { requiredKeys: ['val'] },
);
const rawPack = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9]{1,4}$/), fc.array(rawRecord, { minLength: 1, maxLength: 8 }))
  .map(([bn, records]): SenmlRecord[] =>
    records.map(({ val, ...fields }, i) => ({ ...(i === 0 ? { bn } : {}), ...fields, ...val })),
  );

/** The latest value of a base field at record `i`: the RFC's "applies up to the next one". */
function baseAt<K extends keyof SenmlRecord>(pack: SenmlRecord[], i: number, label: K): SenmlRecord[K] {
  for (let j = i; j >= 0; j--) if (pack[j]?.[label] !== undefined) return pack[j]?.[label];
  return undefined;
}

test('base fields resolve as computed by hand', () => {
  fc.assert(
    fc.property(rawPack, moderate, (pack, now) => {
      const resolved = resolveSenml(pack, { now });
      assert.equal(resolved.length, pack.length);
      pack.forEach((record, i) => {
        const out = resolved[i];
        assert.ok(out);
        assert.equal(out.n, `${baseAt(pack, i, 'bn') ?? ''}${record.n ?? ''}`);
        const t = (baseAt(pack, i, 'bt') ?? 0) + (record.t ?? 0);
        assert.equal(out.t, t < 2 ** 28 ? t + now : t);
        assert.equal(out.u, record.u ?? baseAt(pack, i, 'bu'));
        assert.equal(out.v, record.v === undefined ? undefined : record.v + (baseAt(pack, i, 'bv') ?? 0) + 0);
        assert.equal(out.vs, record.vs);
        const bs = baseAt(pack, i, 'bs');
        assert.equal(
          out.s,
          record.s === undefined && bs === undefined ? undefined : (record.s ?? 0) + (bs ?? 0) + 0,
        );
      });
    }),
    settings,
  );
});
