/**
 * Reads MQTT fixed headers off a connection's bytes as they arrive (MQTT 3.1.1 §2.2: one type
 * byte, then the Remaining Length in 1–4 bytes of 7 bits each) and skips the bodies unread, so a
 * packet longer than the limit is known as soon as its header is in — before the broker buffers
 * any of its body. aedes' parser has no limit of its own: it keeps appending until the announced
 * length has arrived (40 MiB from an unauthenticated client in the security test of issue #13).
 */
export class PacketSizeLimit {
  readonly #maxBytes: number;
  /** Where in the current packet the next byte is. */
  #state: 'type' | 'length' | 'body' = 'type';
  #remaining = 0;
  #multiplier = 1;
  #headerBytes = 0;

  /** @param maxBytes largest whole packet (fixed header included) accepted. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * Takes the next bytes of the connection; answers the size of the first packet that is over the
   * limit (or `Infinity` for a Remaining Length longer than 4 bytes, which no valid packet has),
   * else undefined. Once it answered, the connection is to be closed: later bytes are not read.
   */
  check(chunk: Uint8Array): number | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === 'body') {
        const skipped = Math.min(this.#remaining, chunk.length - i);
        this.#remaining -= skipped;
        i += skipped;
        if (this.#remaining === 0) this.#state = 'type';
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.#state === 'type') {
        this.#state = 'length';
        this.#remaining = 0;
        this.#multiplier = 1;
        this.#headerBytes = 1;
        continue;
      }
      this.#headerBytes += 1;
      this.#remaining += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      if (byte & 0x80) {
        if (this.#headerBytes >= 5) return Infinity;
        continue;
      }
      const size = this.#headerBytes + this.#remaining;
      if (size > this.#maxBytes) return size;
      this.#state = this.#remaining === 0 ? 'type' : 'body';
    }
    return undefined;
  }
}
