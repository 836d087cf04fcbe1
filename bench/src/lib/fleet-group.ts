// Several simulated fleets driven as one: a fleet spread over the MQTT bridges of several
// instances (cluster mode), each device always on the same one, as a balancer would keep it.
import { Fleet, type FleetCounters } from './simulator.ts';

type FleetOptions = ConstructorParameters<typeof Fleet>[0];

export class FleetGroup implements AsyncDisposable {
  readonly #fleets: Fleet[];

  /** Device i goes to `urls[i % urls.length]`; the connect rate is shared between them. */
  constructor(urls: readonly string[], options: Omit<FleetOptions, 'url'>) {
    this.#fleets = urls.map(
      (url, i) =>
        new Fleet({
          ...options,
          url,
          devices: options.devices.filter((_, j) => j % urls.length === i),
          ...(options.connectRate ? { connectRate: Math.max(1, options.connectRate / urls.length) } : {}),
        }),
    );
  }

  async connect(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.#fleets.map((f) => f.connect(signal)));
  }

  start(): void {
    for (const fleet of this.#fleets) fleet.start();
  }

  counters(): FleetCounters {
    return sum(this.#fleets.map((f) => f.counters()));
  }

  ackedByThing(): Map<string, number> {
    return new Map(this.#fleets.flatMap((f) => [...f.ackedByThing()]));
  }

  async stop(drainTimeoutMs?: number): Promise<FleetCounters> {
    return sum(await Promise.all(this.#fleets.map((f) => f.stop(drainTimeoutMs))));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#fleets.map((f) => f[Symbol.asyncDispose]()));
  }
}

function sum(all: FleetCounters[]): FleetCounters {
  const total = { ...all[0]! };
  for (const c of all.slice(1))
    for (const key of Object.keys(total) as (keyof FleetCounters)[]) total[key] += c[key];
  return total;
}
