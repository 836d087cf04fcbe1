/**
 * One SenML Record as received (RFC 8428 §4): base fields (`b*`) and regular fields, all optional.
 * Both the JSON and the CBOR parser produce this shape; unknown fields are dropped.
 */
export interface SenmlRecord {
  /** Base Name, prepended to `n` of this and later records. */
  bn?: string;
  /** Base Time in seconds, added to `t` of this and later records. */
  bt?: number;
  /** Base Unit, used by this and later records that carry no `u`. */
  bu?: string;
  /** Base Value, added to `v` of this and later records. */
  bv?: number;
  /** Base Sum, added to `s` of this and later records. */
  bs?: number;
  /** Version of the format (positive integer, 10 when absent). */
  bver?: number;
  /** Name, concatenated to the Base Name. */
  n?: string;
  /** Unit (RFC 8428 §12.1 registry symbol, e.g. `Cel`). */
  u?: string;
  /** Numeric value. */
  v?: number;
  /** String value. */
  vs?: string;
  /** Boolean value. */
  vb?: boolean;
  /** Data value: base64url without padding (RFC 4648 §5); a byte string in CBOR. */
  vd?: string;
  /** Integrated sum of the values over time (unit × seconds). */
  s?: number;
  /** Time in seconds: absolute since the epoch if ≥ 2**28, otherwise relative to "now". */
  t?: number;
  /** Update time: maximum seconds before the next reading. */
  ut?: number;
}

/** A SenML Pack: one or more records, in order. */
export type SenmlPack = SenmlRecord[];

/**
 * A resolved record (RFC 8428 §4.6): base fields applied, absolute name and time.
 * Exactly one of `v`/`vs`/`vb`/`vd` is present, or none of them and `s`.
 */
export interface ResolvedSenmlRecord {
  /** Full name (Base Name + Name), matching RFC 8428 §4.5.1. */
  n: string;
  /** Unit, from the record or the Base Unit. */
  u?: string;
  /** Absolute time, seconds since the Unix epoch (float). */
  t: number;
  /** Numeric value (Base Value applied). */
  v?: number;
  /** String value. */
  vs?: string;
  /** Boolean value. */
  vb?: boolean;
  /** Data value, base64url without padding. */
  vd?: string;
  /** Sum (Base Sum applied). */
  s?: number;
  /** Update time in seconds. */
  ut?: number;
  /**
   * Version, present only when the pack declared a version other than 10: RFC 8428 §4.6
   * requires it on every resolved record then, and forbids it otherwise.
   */
  bver?: number;
}

/** Limits applied while parsing untrusted bytes. */
export interface ParseOptions {
  /**
   * Largest accepted number of records in a pack.
   * @default 1000
   */
  maxRecords?: number;
  /**
   * Largest accepted body, in bytes (UTF-8 bytes for a string input).
   * @default 262144
   */
  maxBytes?: number;
}

/** What resolution needs from the caller: the receiver's notion of "now". */
export interface ResolveOptions {
  /** Current time in seconds since the epoch (float); relative times are added to it. */
  now: number;
  /**
   * Whether a time below 2**28 is relative to `now` (RFC 8428 §4.5.3). False for a pack that
   * was resolved before, such as a MESSAGES entry: its times are absolute already, and adding
   * `now` again would move a time before 1978-07-04 by decades. @default true
   */
  relativeTimes?: boolean;
}
