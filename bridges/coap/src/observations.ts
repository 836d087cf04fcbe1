import type { ObserveWriteStream } from 'coap';
import type { CoapMetrics } from './metrics.ts';
import { Observation, type Representation } from './observation.ts';

export interface ObservationsOptions {
  /** Observations open at once; one more is refused (5.03). */
  max: number;
  /** How long a block-wise notification's representation stays for its next blocks. */
  transferTimeoutMs: number;
  metrics: CoapMetrics;
}

/**
 * The observations open on this bridge instance, one per endpoint and resource (a registration
 * from the same endpoint replaces the one it had, RFC 7641 §4.1), and the representations of
 * block-wise notifications the observers are fetching.
 */
export class Observations {
  readonly #o: ObservationsOptions;
  readonly #byKey = new Map<string, Observation>();
  readonly #byStream = new Map<ObserveWriteStream, Observation>();
  readonly #representations = new Map<string, { representation: Representation; at: number }>();

  constructor(options: ObservationsOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Opens an observation for `key`, ending the one it replaces. Undefined when the bridge holds
   * as many as it may.
   */
  add(key: string, stream: ObserveWriteStream, resource: 'commands' | 'messages'): Observation | undefined {
    const previous = this.#byKey.get(key);
    if (!previous && this.#byKey.size >= this.#o.max) return undefined;
    previous?.end();
    const observation = new Observation(stream, key);
    this.#byKey.set(key, observation);
    this.#byStream.set(stream, observation);
    this.#o.metrics.observers.inc({ resource });
    observation.onEnd(() => {
      this.#o.metrics.observers.dec({ resource });
      this.#byStream.delete(stream);
      if (this.#byKey.get(key) === observation) this.#byKey.delete(key);
    });
    return observation;
  }

  get(key: string): Observation | undefined {
    return this.#byKey.get(key);
  }

  /** node-coap saw the ACK of a confirmable notification on `stream`. */
  acknowledged(stream: ObserveWriteStream): void {
    this.#byStream.get(stream)?.acknowledged();
  }

  /** Keeps a block-wise notification's whole body for the observer's GETs of its next blocks. */
  keep(key: string, representation: Representation): void {
    const now = Date.now();
    for (const [k, kept] of this.#representations) {
      if (now - kept.at > this.#o.transferTimeoutMs) this.#representations.delete(k);
    }
    this.#representations.set(key, { representation, at: now });
  }

  representation(key: string): Representation | undefined {
    return this.#representations.get(key)?.representation;
  }

  endAll(code?: string, diagnostic?: string): void {
    for (const observation of [...this.#byKey.values()]) observation.end(code, diagnostic);
    this.#representations.clear();
  }
}
