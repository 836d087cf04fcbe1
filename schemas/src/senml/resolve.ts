import { quote, SenmlError } from './errors.ts';
import { orderLabels, REGULAR_LABELS, VALUE_LABELS } from './labels.ts';
import { isValidSenmlName, NAME_RULE } from './names.ts';
import type { ResolvedSenmlRecord, ResolveOptions, SenmlRecord } from './types.ts';

/** The version RFC 8428 defines; packs declaring a higher one must not be used (§4.4). */
export const SENML_VERSION = 10;

/** Times below this many seconds (2**28, 1978-07-04) are relative to "now" (RFC 8428 §4.5.3). */
export const RELATIVE_TIME_LIMIT = 2 ** 28;

/**
 * Resolves a pack (RFC 8428 §4.6): applies each base field to its record and every later one
 * until replaced, makes names absolute (`bn` + `n`) and times absolute (`bt` + `t`, then `now` is
 * added when the sum is below 2**28, unless `opts.relativeTimes` is false), applies `bu` where a record has no `u`, adds `bv` to `v` and
 * `bs` to `s`. Records keep their order, one output record per input record, except that a
 * record holding only base fields (like the first one of RFC 8428 §5.1.7) just sets them.
 *
 * `bv` is added only to records carrying `v`: a record needs its own value field (§4.2), so
 * `bv` alone never creates one. `bs` alone does give a record a sum (§4.5.4).
 *
 * Throws {@link SenmlError} on a version above 10 or mixed versions, an invalid name, a record
 * with no value and no sum, one with several values, or a sum that is not finite.
 */
export function resolveSenml(records: readonly SenmlRecord[], opts: ResolveOptions): ResolvedSenmlRecord[] {
  const { now, relativeTimes = true } = opts;
  if (!Number.isFinite(now)) throw new RangeError(`now must be a finite number of seconds, got ${now}`);
  if (records.length === 0) throw new SenmlError('SENML_EMPTY', 'a SenML Pack needs at least one record');
  const version = packVersion(records);

  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  let bs: number | undefined;
  const resolved: ResolvedSenmlRecord[] = [];
  records.forEach((record, index) => {
    if (record.bn !== undefined) bn = record.bn;
    if (record.bt !== undefined) bt = record.bt;
    if (record.bu !== undefined) bu = record.bu;
    if (record.bv !== undefined) bv = record.bv;
    if (record.bs !== undefined) bs = record.bs;

    if (bs === undefined && REGULAR_LABELS.every((label) => record[label] === undefined)) return;

    const n = bn + (record.n ?? '');
    if (!isValidSenmlName(n)) {
      const detail = n === '' ? 'has no name (neither "bn" nor "n")' : `name ${quote(n)}`;
      throw new SenmlError('SENML_INVALID_NAME', `${detail} ${NAME_RULE}`, { index, field: 'n' });
    }
    const present = VALUE_LABELS.filter((label) => record[label] !== undefined);
    const hasSum = record.s !== undefined || bs !== undefined;
    if (present.length > 1) {
      throw new SenmlError(
        'SENML_MULTIPLE_VALUES',
        `has ${present.map((l) => `"${l}"`).join(', ')}; exactly one value field is allowed (RFC 8428 §4.2)`,
        { index, field: present[1] },
      );
    }
    if (present.length === 0 && !hasSum) {
      throw new SenmlError(
        'SENML_NO_VALUE',
        'has none of "v", "vs", "vb", "vd" and no sum "s"; one is required (RFC 8428 §4.2)',
        { index, field: 'v' },
      );
    }

    let t = bt + (record.t ?? 0);
    if (relativeTimes && t < RELATIVE_TIME_LIMIT) t += now;
    const out: ResolvedSenmlRecord = { n, u: record.u ?? bu, t: finite(t, 't', index) };
    // Adding 0 turns -0 into 0, so the stored JSON and the record compare equal.
    if (record.v !== undefined) out.v = finite(record.v + bv + 0, 'v', index);
    if (record.vs !== undefined) out.vs = record.vs;
    if (record.vb !== undefined) out.vb = record.vb;
    if (record.vd !== undefined) out.vd = record.vd;
    if (hasSum) out.s = finite((bs ?? 0) + (record.s ?? 0) + 0, 's', index);
    if (record.ut !== undefined) out.ut = finite(record.ut + 0, 'ut', index);
    if (version !== SENML_VERSION) out.bver = version;
    // Key order of RFC 8428 §5.1.4 (n, u, t, value), no undefined fields: stable stored JSON.
    resolved.push(orderLabels(out));
  });
  if (resolved.length === 0) {
    throw new SenmlError('SENML_NO_VALUE', 'the pack has only base fields and no value (RFC 8428 §4.2)', {
      field: 'v',
    });
  }
  return resolved;
}

/**
 * Converts a SenML time (seconds since the epoch, float) to whole milliseconds, the unit of the
 * `Telly-Received` header and of JavaScript dates.
 */
export function senmlTimeToMs(t: number): number {
  return Math.round(t * 1000);
}

/** Converts milliseconds since the epoch (e.g. `Date.now()`) to a SenML time in seconds. */
export function msToSenmlTime(ms: number): number {
  return ms / 1000;
}

/** The pack's version: the first `bver` (10 when absent), which every later `bver` must repeat. */
function packVersion(records: readonly SenmlRecord[]): number {
  const version = records[0]?.bver ?? SENML_VERSION;
  records.forEach((record, index) => {
    const bver = record.bver;
    if (bver === undefined) return;
    if (bver > SENML_VERSION) {
      throw new SenmlError(
        'SENML_UNSUPPORTED_VERSION',
        `version ${bver} is newer than ${SENML_VERSION}, the one understood here (RFC 8428 §4.4)`,
        { index, field: 'bver' },
      );
    }
    if (bver !== version) {
      throw new SenmlError(
        'SENML_VERSION_MISMATCH',
        `version ${bver} differs from the pack's version ${version}; all records must share one (RFC 8428 §4.4)`,
        { index, field: 'bver' },
      );
    }
  });
  return version;
}

function finite(value: number, field: string, index: number): number {
  if (Number.isFinite(value)) return value;
  throw new SenmlError('SENML_NOT_FINITE', `resolved "${field}" is not a finite number`, { index, field });
}
