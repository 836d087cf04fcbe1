import { type BlockOption, blockSize } from './block-option.ts';

/** What to do with one Block1 request (RFC 7959 §2.5). */
export type Block1Step =
  /** Not the last block: answer 2.31 Continue, echoing `block`. */
  | { kind: 'continue'; block: BlockOption }
  /** The last block: the whole body, to handle as one request; its answer echoes `block`. */
  | { kind: 'complete'; block: BlockOption; body: Buffer }
  /** A block out of order, or of an upload this bridge does not hold: 4.08 Request Entity Incomplete. */
  | { kind: 'incomplete'; message: string }
  /** More than the bridge accepts in one message: 4.13 (handled as a refusal of the whole). */
  | { kind: 'too-large'; block: BlockOption; bytes: number }
  /** Too many uploads in progress: 5.03, retry later. */
  | { kind: 'busy' };

interface Upload {
  parts: Buffer[];
  bytes: number;
  szx: number;
  at: number;
  /** The step each message id got, so a retransmitted block gets the same answer. */
  answered: Map<number, Block1Step>;
}

export interface Block1UploadsOptions {
  maxBytes: number;
  maxUploads: number;
  /** An upload idle this long is dropped. */
  timeoutMs: number;
}

/**
 * Block1 uploads being reassembled, keyed by endpoint and request URI (path and query), not by
 * token: libcoap's coap-client sends each block with a new token, which RFC 7959 §2.4 allows and
 * node-coap's own reassembly (keyed by token) refuses. Blocks must come in order from 0; a
 * retransmitted block (same message id) gets the step it got before, the last one included, so a
 * retransmission of the final block while its publish is in flight reaches the same request.
 */
export class Block1Uploads {
  readonly #o: Block1UploadsOptions;
  readonly #uploads = new Map<string, Upload>();

  constructor(options: Block1UploadsOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#uploads.size;
  }

  add(key: string, messageId: number, block: BlockOption, payload: Buffer, now = Date.now()): Block1Step {
    this.#sweep(now);
    let upload = this.#uploads.get(key);
    const replay = upload?.answered.get(messageId);
    if (replay) return replay;
    if (block.num === 0) {
      if (!upload && this.#uploads.size >= this.#o.maxUploads) return { kind: 'busy' };
      upload = { parts: [], bytes: 0, szx: block.szx, at: now, answered: new Map() };
      this.#uploads.set(key, upload);
    }
    if (!upload)
      return {
        kind: 'incomplete',
        message: `block ${block.num} of an upload that did not start with block 0`,
      };
    const offset = block.num * blockSize(block.szx);
    if (offset !== upload.bytes || (block.more && payload.length !== blockSize(block.szx))) {
      this.#uploads.delete(key);
      return {
        kind: 'incomplete',
        message: `block ${block.num} (byte ${offset}) does not follow the ${upload.bytes} bytes received`,
      };
    }
    upload.at = now;
    let step: Block1Step;
    if (upload.bytes + payload.length > this.#o.maxBytes) {
      step = { kind: 'too-large', block, bytes: upload.bytes + payload.length };
      upload.parts = [];
    } else {
      upload.parts.push(payload);
      upload.bytes += payload.length;
      step = block.more
        ? { kind: 'continue', block }
        : { kind: 'complete', block, body: Buffer.concat(upload.parts) };
      if (!block.more) upload.parts = [];
    }
    upload.answered.set(messageId, step);
    return step;
  }

  clear(): void {
    this.#uploads.clear();
  }

  #sweep(now: number): void {
    for (const [key, upload] of this.#uploads) {
      if (now - upload.at > this.#o.timeoutMs) this.#uploads.delete(key);
    }
  }
}
