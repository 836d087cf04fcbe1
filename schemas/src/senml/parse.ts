import { decode, Tag } from 'cbor2';
import { SenmlError } from './errors.ts';
import { isSenmlLabel, labelForCborKey } from './labels.ts';
import { type RawField, readRecord } from './read-record.ts';
import type { ParseOptions, SenmlRecord } from './types.ts';

/** Default for {@link ParseOptions.maxRecords}. */
export const DEFAULT_MAX_RECORDS = 1000;
/** Default for {@link ParseOptions.maxBytes}: 256 KiB. */
export const DEFAULT_MAX_BYTES = 256 * 1024;

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const UTF8_ENCODER = new TextEncoder();
const SELF_DESCRIBED_CBOR = 55799;

/**
 * Parses an `application/senml+json` body into raw records (base fields not yet applied).
 * Throws {@link SenmlError} for anything that is not a valid SenML Pack; never anything else.
 */
export function parseSenmlJson(input: Uint8Array | string, opts: ParseOptions = {}): SenmlRecord[] {
  const limits = parseLimits(opts);
  return readJsonPack(parseJsonText(input, limits.maxBytes), limits.maxRecords);
}

/**
 * Parses an `application/senml+cbor` body (integer labels of RFC 8428 §6; textual labels are
 * accepted too) into raw records, `vd` byte strings as base64url text.
 * Throws {@link SenmlError} for anything that is not a valid SenML Pack; never anything else.
 */
export function parseSenmlCbor(input: Uint8Array, opts: ParseOptions = {}): SenmlRecord[] {
  const { maxBytes, maxRecords } = parseLimits(opts);
  checkSize(input.byteLength, maxBytes);
  let value: unknown;
  try {
    // Tags are handled below (numbers may be bignums or decimal fractions); global tag decoders
    // would turn others into Dates, URLs, … that SenML never carries.
    value = decode(input, { preferMap: true, rejectDuplicateKeys: true, ignoreGlobalTags: true });
  } catch (err) {
    throw new SenmlError('SENML_BAD_CBOR', `body is not valid CBOR: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (value instanceof Tag && value.tag === SELF_DESCRIBED_CBOR) value = value.contents;
  const pack = checkPack(value, maxRecords);
  return pack.map((item, index) => {
    if (!(item instanceof Map)) throw notObject(index);
    return readRecord(cborFields(item), index, 'cbor');
  });
}

/** Validated limits with defaults applied. */
export function parseLimits(opts: ParseOptions): Required<ParseOptions> {
  const { maxRecords = DEFAULT_MAX_RECORDS, maxBytes = DEFAULT_MAX_BYTES } = opts;
  if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) {
    throw new RangeError(`maxRecords must be a positive integer, got ${maxRecords}`);
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  }
  return { maxRecords, maxBytes };
}

/** Decodes UTF-8 JSON text within the byte limit; the shared first step of both JSON media types. */
export function parseJsonText(input: Uint8Array | string, maxBytes: number): unknown {
  let text: string;
  if (typeof input === 'string') {
    // A UTF-16 code unit is at least one UTF-8 byte, so the length alone can rule out huge text.
    checkSize(input.length, maxBytes);
    checkSize(UTF8_ENCODER.encode(input).byteLength, maxBytes);
    text = input;
  } else {
    checkSize(input.byteLength, maxBytes);
    try {
      text = UTF8.decode(input);
    } catch (err) {
      throw new SenmlError('SENML_BAD_JSON', 'body is not valid UTF-8 (RFC 8428 §5)', { cause: err });
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SenmlError('SENML_BAD_JSON', `body is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Reads an already parsed JSON value as a SenML Pack. */
export function readJsonPack(value: unknown, maxRecords: number): SenmlRecord[] {
  const pack = checkPack(value, maxRecords);
  return pack.map((item, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw notObject(index);
    const fields = Object.entries(item).map(
      ([key, field]): RawField => ({ label: isSenmlLabel(key) ? key : undefined, key, value: field }),
    );
    return readRecord(fields, index, 'json');
  });
}

function checkPack(value: unknown, maxRecords: number): unknown[] {
  if (!Array.isArray(value)) {
    throw new SenmlError('SENML_NOT_ARRAY', 'a SenML Pack must be an array of records (RFC 8428 §4)');
  }
  if (value.length === 0) throw new SenmlError('SENML_EMPTY', 'a SenML Pack needs at least one record');
  if (value.length > maxRecords) {
    throw new SenmlError(
      'SENML_TOO_LARGE',
      `pack has ${value.length} records, more than the limit ${maxRecords}`,
    );
  }
  return value;
}

function checkSize(bytes: number, maxBytes: number): void {
  if (bytes > maxBytes) {
    throw new SenmlError('SENML_TOO_LARGE', `body is ${bytes} bytes, more than the limit ${maxBytes}`);
  }
}

function notObject(index: number): SenmlError {
  return new SenmlError('SENML_NOT_OBJECT', 'a record must be a map of labels to values (RFC 8428 §5, §6)', {
    index,
  });
}

function* cborFields(map: Map<unknown, unknown>): Iterable<RawField> {
  for (const [key, value] of map) {
    if (typeof key === 'number') {
      yield { label: labelForCborKey(key), key: String(key), value: cborNumber(value) };
    } else if (typeof key === 'string') {
      // RFC 8428 §6: extensions use text keys; the textual base labels are accepted as well.
      yield { label: isSenmlLabel(key) ? key : undefined, key, value: cborNumber(value) };
    }
    // Other key types (byte strings, floats, …) cannot be SenML labels: ignored like unknown fields.
  }
}

/**
 * RFC 8428 §6: numbers may be integers, floats, decimal fractions (tag 4) and, through integers,
 * bignums (tags 2/3). Anything else is returned unchanged for the type check to reject.
 */
function cborNumber(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (!(value instanceof Tag)) return value;
  if (value.tag === 4 && Array.isArray(value.contents) && value.contents.length === 2) {
    const [exponent, mantissa] = value.contents.map(cborInteger);
    if (exponent !== undefined && mantissa !== undefined) {
      // Through the decimal text, so 1276020076001e-3 rounds once, like a JSON number would.
      return Number(`${mantissa}e${exponent}`);
    }
    return value;
  }
  const integer = cborInteger(value);
  return integer === undefined ? value : Number(integer);
}

/** An integer, bigint or bignum tag as a bigint; undefined for anything else. */
function cborInteger(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined;
  if (!(value instanceof Tag) || (value.tag !== 2 && value.tag !== 3)) return undefined;
  if (!(value.contents instanceof Uint8Array)) return undefined;
  const bytes = value.contents;
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  // Beyond 2**1024 a double is infinite anyway; stopping here keeps huge bignums cheap.
  const magnitude = bytes.length - start > 129 ? 2n ** 1100n : bignum(bytes.subarray(start));
  return value.tag === 2 ? magnitude : -1n - magnitude;
}

function bignum(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  return n;
}
