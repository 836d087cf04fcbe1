import type { ObserveWriteStream } from 'coap';
import { writeBlockOption } from './block-option.ts';

/** Largest notification payload sent in one datagram; a larger one goes block-wise (Block2). */
export const NOTIFICATION_BLOCK_BYTES = 1024;
const BLOCK_SZX = 6; // 1024 bytes

/**
 * The ETag node-coap gives the next blocks it serves (each pair of bytes XORed: lib/server.js
 * `_toETag`), so the first block, which the bridge sends itself, carries the same one.
 */
function etagOf(body: Buffer): Buffer {
  const etag = Buffer.of(0, 0);
  for (let i = 0; i < body.length; i += 2) {
    etag[0] = (etag[0] as number) ^ (body[i] as number);
    etag[1] = (etag[1] as number) ^ (body[i + 1] ?? 0);
  }
  return etag;
}

/** A representation too large for one datagram, kept so the observer can GET its other blocks. */
export interface Representation {
  body: Buffer;
  etag: Buffer;
  contentFormat: number;
}

/**
 * One observer (RFC 7641) of a resource: the registration's response stream from node-coap, and
 * its notifications. Notifications go one at a time (NSTART = 1, RFC 7252 §4.7), each confirmable
 * when the registration was: {@link notify} resolves true once the observer acknowledged it (so a
 * command counts as delivered only then) and false once the observation ended — the observer sent
 * a Reset, stopped acknowledging (node-coap gives up after the exchange lifetime), deregistered,
 * or the bridge ended it.
 */
export class Observation {
  readonly stream: ObserveWriteStream;
  /** `address|port|path`: one observation per endpoint and resource. */
  readonly key: string;
  #ended = false;
  #waiting: ((acked: boolean) => void) | undefined;
  readonly #onEnd: Array<() => void> = [];

  constructor(stream: ObserveWriteStream, key: string) {
    this.stream = stream;
    this.key = key;
    stream.on('finish', () => this.#finish());
    stream.on('close', () => this.#finish());
    stream.on('error', () => this.#finish());
  }

  get ended(): boolean {
    return this.#ended;
  }

  get confirmable(): boolean {
    return this.stream._request.confirmable === true;
  }

  onEnd(fn: () => void): void {
    if (this.#ended) fn();
    else this.#onEnd.push(fn);
  }

  /**
   * The response to the registration itself: 2.05 with the resource's state now, sent in the
   * acknowledgement of the GET (piggybacked).
   */
  register(payload: Uint8Array, contentFormat: number): void {
    this.stream.statusCode = '2.05';
    this.stream.setOption('Content-Format', contentFormat);
    this.stream.write(Buffer.from(payload));
  }

  /**
   * Sends a notification. A payload over {@link NOTIFICATION_BLOCK_BYTES} goes as its first block
   * with Block2 and an ETag (RFC 7959 §2.6); the returned {@link Representation} is what the
   * observer's GETs of the next blocks are served from.
   */
  notify(
    payload: Uint8Array,
    contentFormat: number,
  ): { acked: Promise<boolean>; representation?: Representation } {
    if (this.#ended) return { acked: Promise.resolve(false) };
    const body = Buffer.from(payload);
    let representation: Representation | undefined;
    this.stream.setOption('Content-Format', contentFormat);
    if (body.length > NOTIFICATION_BLOCK_BYTES) {
      const etag = etagOf(body);
      representation = { body, etag, contentFormat };
      this.stream.setOption('Block2', writeBlockOption({ num: 0, more: true, szx: BLOCK_SZX }));
      this.stream.setOption('ETag', etag);
      this.stream.setOption('Size2', body.length);
    } else {
      this.stream.setOption('Block2', []);
      this.stream.setOption('ETag', []);
      this.stream.setOption('Size2', []);
    }
    const acked = this.confirmable
      ? new Promise<boolean>((resolve) => {
          this.#waiting = resolve;
        })
      : Promise.resolve(true);
    this.stream.write(representation ? body.subarray(0, NOTIFICATION_BLOCK_BYTES) : body);
    return representation ? { acked, representation } : { acked };
  }

  /** The observer acknowledged the notification in flight. */
  acknowledged(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(true);
  }

  /**
   * Ends the observation. With a code (4.03 when the thing's access was revoked, 5.03 when the
   * bridge stops), a last notification says so (RFC 7641 §3.2: a non-2.xx response ends it).
   */
  end(code?: string, diagnostic?: string): void {
    if (this.#ended) return;
    if (code !== undefined) {
      this.stream.statusCode = code;
      this.stream.setOption('Content-Format', []);
      this.stream.setOption('Block2', []);
      this.stream.write(Buffer.from(diagnostic ?? ''));
    }
    this.stream.end();
    this.#finish();
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#waiting?.(false);
    this.#waiting = undefined;
    for (const fn of this.#onEnd.splice(0)) fn();
  }
}
