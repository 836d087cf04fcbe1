import type { SenmlRecord } from './types.ts';

/** A SenML label understood by this module (RFC 8428 Table 1). */
export type SenmlLabel = keyof SenmlRecord;

/** The value type a label carries; `data` is base64url in JSON and a byte string in CBOR. */
export type FieldKind = 'string' | 'number' | 'boolean' | 'data' | 'version';

/** Label → value type and CBOR integer label (RFC 8428 Table 1 and Table 4). */
export const SENML_FIELDS: Readonly<Record<SenmlLabel, { kind: FieldKind; cbor: number }>> = {
  bver: { kind: 'version', cbor: -1 },
  bn: { kind: 'string', cbor: -2 },
  bt: { kind: 'number', cbor: -3 },
  bu: { kind: 'string', cbor: -4 },
  bv: { kind: 'number', cbor: -5 },
  bs: { kind: 'number', cbor: -6 },
  n: { kind: 'string', cbor: 0 },
  u: { kind: 'string', cbor: 1 },
  v: { kind: 'number', cbor: 2 },
  vs: { kind: 'string', cbor: 3 },
  vb: { kind: 'boolean', cbor: 4 },
  s: { kind: 'number', cbor: 5 },
  t: { kind: 'number', cbor: 6 },
  ut: { kind: 'number', cbor: 7 },
  vd: { kind: 'data', cbor: 8 },
};

/** Fixed order in which labels are written, so encoded records are deterministic. */
export const LABEL_ORDER: readonly SenmlLabel[] = [
  'bver',
  'bn',
  'bt',
  'bu',
  'bv',
  'bs',
  'n',
  'u',
  't',
  'v',
  'vs',
  'vb',
  'vd',
  's',
  'ut',
];

const LABEL_BY_CBOR = new Map<number, SenmlLabel>(
  LABEL_ORDER.map((label) => [SENML_FIELDS[label].cbor, label]),
);

/** The label for a CBOR integer map key, or undefined for keys RFC 8428 Table 4 does not define. */
export function labelForCborKey(key: number): SenmlLabel | undefined {
  return LABEL_BY_CBOR.get(key);
}

/** True when `key` is one of the textual labels of RFC 8428 Table 1. */
export function isSenmlLabel(key: string): key is SenmlLabel {
  return Object.hasOwn(SENML_FIELDS, key);
}

/** The regular (non-base) fields of a record (RFC 8428 §4.2). */
export const REGULAR_LABELS = ['n', 'u', 'v', 'vs', 'vb', 'vd', 's', 't', 'ut'] as const;

/** The value fields of a record: exactly one may be present (RFC 8428 §4.2). */
export const VALUE_LABELS = ['v', 'vs', 'vb', 'vd'] as const;

/**
 * A copy of `record` holding only SenML labels, in {@link LABEL_ORDER}, without undefined
 * fields: the shape every encoder writes, so equal records always give equal bytes.
 */
export function orderLabels<T extends SenmlRecord>(record: T): T {
  const out: Record<string, unknown> = {};
  for (const label of LABEL_ORDER) {
    if (record[label] !== undefined) out[label] = record[label];
  }
  return out as T;
}
