import { type IngestError, isIngestError } from '@telly/bridge-core';
import type { RejectionReason } from '@telly/schemas';

/** A CoAP response as the bridge builds it, before node-coap writes it. */
export interface Answer {
  /** `2.04`, `4.00`, … */
  code: string;
  payload?: Uint8Array | undefined;
  /** Options by node-coap name (`Content-Format`, `Max-Age`, `Size1`, `Block1`). */
  options?: Readonly<Record<string, number | string | Buffer>>;
}

/** The CoAP response code of each refusal (RFC 7252 §5.9, RFC 8516 for 4.29). */
export const CODES: Readonly<Record<RejectionReason, string>> = {
  'invalid-payload': '4.00',
  unauthenticated: '4.01',
  forbidden: '4.03',
  'thing-disabled': '4.03',
  'invalid-topic': '4.04',
  'payload-too-large': '4.13',
  'unsupported-content-type': '4.15',
  'rate-limited': '4.29',
  unavailable: '5.03',
};

const text = (message: string) => new TextEncoder().encode(message.slice(0, 512));

/**
 * The answer to a refusal: its code with the reason's message as the diagnostic payload (RFC 7252
 * §5.5.2); Max-Age says when to retry after 4.29 and 5.03 (RFC 8516), Size1 the limit after 4.13.
 */
export function refusalAnswer(error: IngestError, maxPayloadBytes: number): Answer {
  const options: Record<string, number> = {};
  if (error.retryAfter !== undefined || error.reason === 'rate-limited' || error.reason === 'unavailable') {
    options['Max-Age'] = Math.max(1, Math.ceil(error.retryAfter ?? 1));
  }
  if (error.reason === 'payload-too-large') options.Size1 = maxPayloadBytes;
  return { code: CODES[error.reason], payload: text(error.message), options };
}

/** The answer to a failure that is not a refusal: the log or the credentials out of reach, or a bug. */
export function failureAnswer(err: unknown, maxPayloadBytes: number): Answer {
  if (isIngestError(err)) return refusalAnswer(err, maxPayloadBytes);
  return {
    code: '5.03',
    payload: text('the bridge cannot serve this right now; retry'),
    options: { 'Max-Age': 1 },
  };
}

/** A diagnostic answer with any code (4.04 no route, 4.05 method, 4.08 incomplete upload). */
export function diagnostic(code: string, message: string, options?: Answer['options']): Answer {
  return { code, payload: text(message), ...(options ? { options } : {}) };
}
