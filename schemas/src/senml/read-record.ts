// Turns the fields of one decoded record (JSON object or CBOR map) into a typed SenmlRecord,
// checking each value's type (RFC 8428 Table 1) and the "must understand" rule (§4.4).
import { encodeBase64Url, isBase64Url } from './base64url.ts';
import { quote, SenmlError } from './errors.ts';
import { type FieldKind, SENML_FIELDS, type SenmlLabel } from './labels.ts';
import type { SenmlRecord } from './types.ts';

/** The wire format a record came from; it decides how `vd` is carried. */
export type WireFormat = 'json' | 'cbor';

/** A field of a decoded record: the textual label if known, else the key as seen on the wire. */
export interface RawField {
  label: SenmlLabel | undefined;
  key: string;
  value: unknown;
}

const EXPECTED: Record<FieldKind, Record<WireFormat, string>> = {
  string: { json: 'a string', cbor: 'a text string' },
  number: { json: 'a number', cbor: 'a number' },
  boolean: { json: 'a boolean', cbor: 'a boolean' },
  data: { json: 'a base64url string without padding', cbor: 'a byte string' },
  version: { json: 'a positive integer', cbor: 'an unsigned integer' },
};

/** Builds one record from its fields; throws {@link SenmlError} naming `index` and the label. */
export function readRecord(fields: Iterable<RawField>, index: number, format: WireFormat): SenmlRecord {
  const record: Record<string, unknown> = {};
  for (const { label, key, value } of fields) {
    if (label === undefined) {
      if (key.endsWith('_')) {
        throw new SenmlError(
          'SENML_MUST_UNDERSTAND',
          `field ${quote(key)} ends with "_" and is not understood (RFC 8428 §4.4)`,
          { index, field: key },
        );
      }
      continue; // RFC 8428 §4.4: other unknown fields are ignored
    }
    if (Object.hasOwn(record, label)) {
      throw new SenmlError('SENML_DUPLICATE_FIELD', `field "${label}" appears more than once`, {
        index,
        field: label,
      });
    }
    record[label] = readValue(label, value, index, format);
  }
  return record as SenmlRecord;
}

function readValue(label: SenmlLabel, value: unknown, index: number, format: WireFormat): unknown {
  const kind = SENML_FIELDS[label].kind;
  const fail = (): never => {
    throw new SenmlError(
      'SENML_BAD_TYPE',
      `field "${label}" must be ${EXPECTED[kind][format]} (RFC 8428 Table 1), got ${describe(value)}`,
      { index, field: label },
    );
  };
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') return fail();
      if (!value.isWellFormed()) {
        throw new SenmlError('SENML_BAD_TYPE', `field "${label}" must be well-formed Unicode (RFC 8428 §5)`, {
          index,
          field: label,
        });
      }
      return value;
    case 'boolean':
      return typeof value === 'boolean' ? value : fail();
    case 'number':
      if (typeof value !== 'number') return fail();
      if (!Number.isFinite(value)) {
        throw new SenmlError('SENML_NOT_FINITE', `field "${label}" must be a finite number, got ${value}`, {
          index,
          field: label,
        });
      }
      return value;
    case 'version':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 ? value : fail();
    case 'data':
      if (format === 'cbor') return value instanceof Uint8Array ? encodeBase64Url(value) : fail();
      return typeof value === 'string' && isBase64Url(value) ? value : fail();
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'a byte string';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `the string ${quote(value, 32)}`;
  return typeof value;
}
