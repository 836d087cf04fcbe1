// fast-check arbitraries of resolved SenML packs for the property tests of every projection:
// mostly storable, often not, with the edges of `STORABLE` and the characters that need
// escaping in COPY and in line protocol. Test support only (`@telly/schemas/testing`).
import fc from 'fast-check';
import { STORABLE } from './accept.ts';
import { SENML_NAME_PATTERN } from './names.ts';
import type { ResolvedSenmlRecord } from './types.ts';

/** Any code points (control characters, a NUL now and then, lone surrogates), escapes, long text. */
const text = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 16 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('kg m/s,x=1', 'say "hi" \\', '\\', '\\N', 'a=b c', '\t\r\n', 'é€😀', ''),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.integer({ min: STORABLE.maxTextBytes - 4, max: STORABLE.maxTextBytes + 4 }),
        fc.constantFrom('a', 'é'),
      )
      .map(([bytes, c]) => c.repeat(Math.floor(bytes / Buffer.byteLength(c)))),
  },
);

/** Numbers across the whole double range, and the edges of the storable magnitudes. */
const number = fc.oneof(
  { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 4, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        0,
        STORABLE.maxMagnitude,
        STORABLE.minMagnitude,
        1.0000000000000002 * STORABLE.maxMagnitude,
        0.9999999999999999 * STORABLE.minMagnitude,
        Number.MAX_VALUE,
        Number.MIN_VALUE,
        2 ** 53 + 1,
      )
      .chain((v) => fc.constantFrom(v, -v)),
  },
);

/** Times in seconds: the storable range and beyond, its edges, sub-millisecond digits, ms by mistake. */
const time = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0, max: STORABLE.maxTimeMs / 1000, noNaN: true }) },
  { weight: 2, arbitrary: fc.double({ min: -1e14, max: 1e14, noNaN: true }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0,
      -0.0005,
      0.0004,
      STORABLE.maxTimeMs / 1000,
      STORABLE.maxTimeMs / 1000 + 0.0005,
      1796110000000,
      253402300800,
      1_764_547_200.123456,
    ),
  },
);

const name = fc.oneof(
  { weight: 9, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:./_-]{0,20}$/) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: STORABLE.maxNameBytes - 2, max: STORABLE.maxNameBytes + 2 })
      .map((length) => 'n'.repeat(length)),
  },
);

const value = fc.oneof(
  number.map((v) => ({ v })),
  text.map((vs) => ({ vs })),
  fc.boolean().map((vb) => ({ vb })),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/).map((vd) => ({ vd })),
  fc.constant({}),
);

/** One resolved record: a name by RFC 8428 §4.5.1, a time, one value (or only a sum). */
export const resolvedRecordArbitrary: fc.Arbitrary<ResolvedSenmlRecord> = fc
  .record(
    { n: name, u: text, t: time, s: number, ut: fc.double({ min: 0, max: 1e6, noNaN: true }) },
    { requiredKeys: ['n', 't'] },
  )
  .chain((record) => value.map((v): ResolvedSenmlRecord => ({ ...record, ...v })))
  .filter(
    (record) =>
      SENML_NAME_PATTERN.test(record.n) &&
      Object.keys(record).some((k) => ['v', 'vs', 'vb', 'vd', 's'].includes(k)),
  );

/**
 * A resolved pack of one to `maxLength` records; in half of them every record shares the first
 * one's name and time, as the records a rollup adds up.
 */
export function resolvedPackArbitrary(maxLength = 6): fc.Arbitrary<ResolvedSenmlRecord[]> {
  return fc.array(resolvedRecordArbitrary, { minLength: 1, maxLength }).chain((records) =>
    fc.boolean().map((same) => {
      const [first] = records;
      return same && first ? records.map((r) => ({ ...r, n: first.n, t: first.t })) : records;
    }),
  );
}
