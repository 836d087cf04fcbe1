// End-to-end latency, publish → row visible in `telemetry`, sampled on a few probe devices:
// their acknowledged messages wait in a queue until a poll (every 50 ms, one index lookup per
// probe) sees a row at least as new; latency = when that poll ran − when the message was sent.
// Resolution is the poll interval: values are upper bounds within +50 ms.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { LatencyHistogram } from './histogram.ts';

export const POLL_INTERVAL_MS = 50;

const LATEST = `SELECT p.thing_id::text AS thing_id,
    (SELECT max(t.time) FROM telemetry t WHERE t.thing_id = p.thing_id AND t.name = $2 AND t.time >= $3) AS latest
  FROM unnest($1::uuid[]) AS p(thing_id)`;

export class VisibilityProbe implements AsyncDisposable {
  readonly latency = new LatencyHistogram();
  /** The error that stopped polling early, if one did. */
  error: unknown;
  readonly #pool: pg.Pool;
  readonly #name: string;
  readonly #pending = new Map<string, number[]>();
  readonly #since: Date;
  #running = false;
  #loop: Promise<void> | undefined;

  /** Probes `things` on the record `name`, for rows no older than `since`. */
  constructor(pool: pg.Pool, things: readonly string[], name: string, since: Date) {
    this.#pool = pool;
    this.#name = name;
    this.#since = since;
    for (const thing of things) this.#pending.set(thing, []);
  }

  /** An acknowledged message of a probe device, sent (and stamped) at `sentAt` ms. */
  sent(thingId: string, sentAt: number): void {
    this.#pending.get(thingId)?.push(sentAt);
  }

  get outstanding(): number {
    let n = 0;
    for (const queue of this.#pending.values()) n += queue.length;
    return n;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#poll();
  }

  /** Keeps polling until every tracked message was seen or `timeoutMs` passed, then stops. */
  async finish(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.outstanding > 0 && performance.now() < deadline) await sleep(POLL_INTERVAL_MS);
    this.#running = false;
    await this.#loop;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async #poll(): Promise<void> {
    const things = [...this.#pending.keys()];
    while (this.#running) {
      const issuedAt = Date.now();
      let rows: { thing_id: string; latest: Date | null }[];
      try {
        ({ rows } = await this.#pool.query<{ thing_id: string; latest: Date | null }>(LATEST, [
          things,
          this.#name,
          this.#since,
        ]));
      } catch (err) {
        this.error ??= err;
        return;
      }
      const observedAt = (issuedAt + Date.now()) / 2;
      for (const { thing_id, latest } of rows) {
        const queue = this.#pending.get(thing_id);
        if (!queue || !latest) continue;
        const visibleUpTo = latest.getTime();
        while (queue.length && queue[0]! <= visibleUpTo) this.latency.record(observedAt - queue.shift()!);
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }
}
