// What a bridge stores for a pack, for the property tests of every projection ("anything the
// bridge accepts, the projections store"). Test support only (`@telly/schemas/testing`).
import { type AcceptPolicy, checkAccepted } from './accept.ts';
import { decodeMessage } from './decode.ts';
import { encodeResolvedJson } from './encode.ts';
import { isSenmlError } from './errors.ts';
import type { ResolvedSenmlRecord } from './types.ts';

/** A window that accepts any storable time at any receipt: the whole storable range is exercised. */
export const ANY_STORABLE_TIME: Readonly<AcceptPolicy> = Object.freeze({
  pastMs: Number.POSITIVE_INFINITY,
  futureMs: Number.POSITIVE_INFINITY,
  maxMonths: 1_000_000,
});

/**
 * The body a bridge stores for `pack` received at `receivedMs` (SenML JSON decoded, then
 * `checkAccepted`), or undefined when it refuses it.
 */
export function acceptedBody(
  pack: readonly ResolvedSenmlRecord[],
  receivedMs: number,
  policy: AcceptPolicy = ANY_STORABLE_TIME,
): Uint8Array | undefined {
  try {
    const { records } = decodeMessage('application/senml+json', encodeResolvedJson(pack), {
      now: receivedMs / 1000,
    });
    checkAccepted(records, receivedMs, policy);
    return encodeResolvedJson(records);
  } catch (err) {
    if (isSenmlError(err)) return undefined;
    throw err;
  }
}
