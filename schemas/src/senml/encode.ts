import { encode } from 'cbor2';
import { decodeBase64Url } from './base64url.ts';
import { SenmlError } from './errors.ts';
import { LABEL_ORDER, orderLabels, SENML_FIELDS } from './labels.ts';
import type { ResolvedSenmlRecord, SenmlRecord } from './types.ts';

const UTF8 = new TextEncoder();

/**
 * Encodes resolved records as the `application/senml+json` body stored in the `MESSAGES`
 * stream: keys in a fixed order (bver, n, u, t, value, s, ut), only SenML labels, no whitespace, so
 * equal records always give equal bytes.
 */
export function encodeResolvedJson(records: readonly ResolvedSenmlRecord[]): Uint8Array {
  return encodeSenmlJson(records);
}

/** Encodes any SenML records (raw or resolved) as `application/senml+json`, labels in a fixed order. */
export function encodeSenmlJson(records: readonly SenmlRecord[]): Uint8Array {
  return UTF8.encode(JSON.stringify(records.map(orderLabels)));
}

/**
 * Encodes SenML records (raw or resolved) as `application/senml+cbor`: a definite-length array
 * of maps keyed by the integer labels of RFC 8428 §6, `vd` as a byte string, numbers in their
 * shortest exact form. Throws {@link SenmlError} if a `vd` is not base64url without padding.
 */
export function encodeSenmlCbor(records: readonly SenmlRecord[]): Uint8Array {
  const pack = records.map((record, index) => {
    const map = new Map<number, unknown>();
    for (const label of LABEL_ORDER) {
      const value = record[label];
      if (value === undefined) continue;
      if (label === 'vd') {
        const bytes = decodeBase64Url(value as string);
        if (bytes === undefined) {
          throw new SenmlError(
            'SENML_BAD_TYPE',
            'field "vd" must be base64url without padding (RFC 8428 §5)',
            {
              index,
              field: 'vd',
            },
          );
        }
        map.set(SENML_FIELDS.vd.cbor, bytes);
      } else {
        map.set(SENML_FIELDS[label].cbor, value);
      }
    }
    return map;
  });
  return encode(pack);
}
