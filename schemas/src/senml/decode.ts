import { quote, SenmlError } from './errors.ts';
import { fromPlainJson, isThingsBoardTelemetry } from './from-json.ts';
import { parseJsonText, parseLimits, parseSenmlCbor, readJsonPack } from './parse.ts';
import { resolveSenml } from './resolve.ts';
import type { ParseOptions, ResolvedSenmlRecord, ResolveOptions } from './types.ts';

/** Options of {@link decodeMessage}: the receiver's `now` and the parse limits. */
export interface DecodeOptions extends ResolveOptions, ParseOptions {}

/** A device message as resolved SenML records. */
export interface DecodedMessage {
  records: ResolvedSenmlRecord[];
}

/** How a supported media type is read. */
export type MessageFormat = 'senml+json' | 'senml+cbor' | 'json';

const FORMATS: ReadonlyMap<string, MessageFormat> = new Map([
  ['application/senml+json', 'senml+json'],
  // Not registered, but sent by clients that followed early SenML drafts.
  ['application/senml-json', 'senml+json'],
  ['application/senml+cbor', 'senml+cbor'],
  ['application/json', 'json'],
]);

/**
 * The format for a `Content-Type` header value, or undefined when it is not one
 * {@link decodeMessage} reads. Case and parameters are ignored, except that a `charset` on a
 * JSON type must be UTF-8 (RFC 8428 §5 allows no other).
 */
export function messageFormat(contentType: string): MessageFormat | undefined {
  const [essence = '', ...params] = contentType.split(';').map((part) => part.trim().toLowerCase());
  const format = FORMATS.get(essence);
  if (format === undefined || format === 'senml+cbor') return format;
  for (const param of params) {
    const [name, value = ''] = param.split('=').map((part) => part.trim());
    if (name === 'charset' && !['utf-8', 'utf8', '"utf-8"'].includes(value)) return undefined;
  }
  return format;
}

/**
 * Decodes a device message body into resolved SenML records (RFC 8428 §4.6), by content type:
 *
 * - `application/senml+json` (also `application/senml-json`): a SenML Pack in JSON;
 * - `application/senml+cbor`: a SenML Pack in CBOR;
 * - `application/json`: a JSON array is read as a SenML Pack (many devices label SenML this
 *   way), unless it is ThingsBoard's telemetry (`[{"ts": …, "values": {…}}]`); that and a
 *   JSON object are converted by {@link fromPlainJson}'s rules.
 *
 * Throws {@link SenmlError} — `SENML_UNSUPPORTED_CONTENT_TYPE` for any other type — and
 * nothing else, whatever the bytes.
 */
export function decodeMessage(contentType: string, body: Uint8Array, opts: DecodeOptions): DecodedMessage {
  const format = messageFormat(contentType);
  const { maxRecords, maxBytes } = parseLimits(opts);
  const limits = { maxRecords, maxBytes };
  switch (format) {
    case 'senml+cbor':
      return { records: resolveSenml(parseSenmlCbor(body, limits), opts) };
    case 'senml+json':
      return { records: resolveSenml(readJsonPack(parseJsonText(body, maxBytes), maxRecords), opts) };
    case 'json': {
      const value = parseJsonText(body, maxBytes);
      if (Array.isArray(value) && !isThingsBoardTelemetry(value)) {
        return { records: resolveSenml(readJsonPack(value, maxRecords), opts) };
      }
      return { records: fromPlainJson(value, { now: opts.now, maxRecords }) };
    }
    case undefined:
      throw new SenmlError(
        'SENML_UNSUPPORTED_CONTENT_TYPE',
        `content type ${quote(contentType)} is not one of ${[...FORMATS.keys()].join(', ')}`,
      );
  }
}
