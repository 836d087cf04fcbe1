// "Durably stored per second" for a load that ran from t0 to t1: the messages a stream stored
// from t0 until everything acknowledged by t1 is in it, divided by that time. For Telly this is
// the acknowledged rate (a device is acked only once stored); for a server that acks before its
// stream has stored (nats-server's MQTT captures into a stream asynchronously), it is the rate
// at which messages actually became durable.
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 10;

export interface DurableWindow {
  /** Messages in the stream when the window opened (t0). */
  storedAtStart: number;
  /** performance.now() at t0. */
  startedAt: number;
  /** The stream count that covers everything acknowledged by t1. */
  target: number;
  /** performance.now() at t1. */
  endedAt: number;
}

/** Polls `stored` until it reaches `window.target`; returns stored messages per second. */
export async function durableRate(
  window: DurableWindow,
  stored: () => Promise<number>,
  timeoutMs = 120_000,
): Promise<{ rate: number; storeLagMs: number }> {
  const deadline = performance.now() + timeoutMs;
  // polled right at t1: when everything is already there, it was there at t1
  let reachedAt = window.endedAt;
  let count = await stored();
  while (count < window.target) {
    if (performance.now() > deadline)
      throw new Error(`only ${count} of ${window.target} acknowledged messages stored after ${timeoutMs} ms`);
    await sleep(POLL_MS);
    count = await stored();
    reachedAt = performance.now();
  }
  return {
    rate: (window.target - window.storedAtStart) / ((reachedAt - window.startedAt) / 1000),
    storeLagMs: Math.max(0, reachedAt - window.endedAt),
  };
}

/** Waits until `stored()` reaches `count` or `timeoutMs` passed; returns the last count seen. */
export async function storedAtLeast(
  stored: () => Promise<number>,
  count: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let seen = await stored();
  while (seen < count && performance.now() < deadline) {
    await sleep(POLL_MS * 10);
    seen = await stored();
  }
  return seen;
}
