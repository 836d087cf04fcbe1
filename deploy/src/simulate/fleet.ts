// A fleet of simulated devices: connects them at a bounded rate (so thousands of connections do
// not stampede the bridge), then has each publish a SenML pack every 1/rate seconds, waiting for
// the acknowledgement when it has `maxInflight` messages outstanding, and counts the outcome.
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpTransport, keepAliveAgent } from './http-transport.ts';
import { MqttTransport } from './mqtt-transport.ts';
import { SensorBoard } from './sensors.ts';
import type { Ack, DeviceCredentials, FleetCounters, Protocol, Transport } from './types.ts';

/** @default messages per second per device */
export const DEFAULT_RATE = 1;
/** @default records per SenML pack */
export const DEFAULT_VALUES = 3;
/** @default new connections per second */
export const DEFAULT_CONNECT_RATE = 100;
/** @default unacknowledged messages per device */
export const DEFAULT_MAX_INFLIGHT = 1;
/** @default how long `stop` waits for outstanding acknowledgements */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export interface FleetOptions {
  protocol: Protocol;
  /** `mqtt://host:port` for MQTT, `http://host:port` for HTTP. */
  url: string;
  devices: readonly DeviceCredentials[];
  /** Messages per second per device. @default {@link DEFAULT_RATE} */
  rate?: number;
  /** Records per SenML pack. @default {@link DEFAULT_VALUES} */
  values?: number;
  /** New connections per second while connecting. @default {@link DEFAULT_CONNECT_RATE} */
  connectRate?: number;
  /** Unacknowledged messages per device at most. @default {@link DEFAULT_MAX_INFLIGHT} */
  maxInflight?: number;
  /** Appended to the message topic / path. */
  subtopic?: string;
  /** Every acknowledged message, as it is acknowledged. */
  onAck?: (ack: Ack) => void;
  /** Every failed send or connection. */
  onError?: (error: unknown, device: DeviceCredentials) => void;
  /** @default Math.random */
  random?: () => number;
}

interface DeviceState {
  index: number;
  credentials: DeviceCredentials;
  transport: Transport;
  board: SensorBoard;
  connected: boolean;
  /** performance.now() at which the next message is due. */
  nextAt: number;
  inflight: number;
  acked: number;
  timer: NodeJS.Timeout | undefined;
}

export class Fleet implements AsyncDisposable {
  readonly #options: FleetOptions;
  readonly #intervalMs: number;
  readonly #maxInflight: number;
  readonly #devices: DeviceState[];
  readonly #agent: http.Agent | undefined;
  #running = false;
  #counts = { connectFailures: 0, sent: 0, acked: 0, errors: 0, inflight: 0 };
  #settled: (() => void) | undefined;
  #stopped: Promise<FleetCounters> | undefined;

  constructor(options: FleetOptions) {
    const rate = options.rate ?? DEFAULT_RATE;
    if (!(rate > 0)) throw new RangeError('rate must be > 0');
    this.#options = options;
    this.#intervalMs = 1000 / rate;
    this.#maxInflight = options.maxInflight ?? DEFAULT_MAX_INFLIGHT;
    this.#agent = options.protocol === 'http' ? keepAliveAgent(options.url) : undefined;
    const random = options.random ?? Math.random;
    this.#devices = options.devices.map((credentials, index) => ({
      index,
      credentials,
      transport: this.#agent
        ? new HttpTransport(options.url, credentials, this.#agent, options.subtopic)
        : new MqttTransport(options.url, credentials, { subtopic: options.subtopic }),
      board: new SensorBoard(options.values ?? DEFAULT_VALUES, random),
      connected: false,
      nextAt: 0,
      inflight: 0,
      acked: 0,
      timer: undefined,
    }));
  }

  /**
   * Connects every device, `connectRate` new connections per second; resolves when all have
   * connected or failed (failures are counted and those devices stay silent).
   */
  async connect(signal?: AbortSignal): Promise<void> {
    const gapMs = 1000 / (this.#options.connectRate ?? DEFAULT_CONNECT_RATE);
    const started = performance.now();
    const attempts: Promise<void>[] = [];
    for (const device of this.#devices) {
      if (signal?.aborted) break;
      const due = started + device.index * gapMs - performance.now();
      if (due > 1) await sleep(due, undefined, { signal }).catch(() => {});
      if (signal?.aborted) break;
      attempts.push(
        device.transport.connect().then(
          () => {
            device.connected = true;
          },
          (err: unknown) => {
            this.#counts.connectFailures++;
            this.#options.onError?.(err, device.credentials);
          },
        ),
      );
    }
    // even when interrupted: every connection started is either up (and closed by stop) or failed
    await Promise.all(attempts);
    signal?.throwIfAborted();
  }

  /** Every connected device starts publishing, at a random phase within its first interval. */
  start(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    const random = this.#options.random ?? Math.random;
    const now = performance.now();
    for (const device of this.#devices) {
      if (!device.connected) continue;
      device.nextAt = now + random() * this.#intervalMs;
      this.#schedule(device);
    }
  }

  counters(): FleetCounters {
    let connected = 0;
    let disconnects = 0;
    for (const device of this.#devices) {
      if (device.connected) connected++;
      disconnects += device.transport.disconnects;
    }
    return { devices: this.#devices.length, connected, disconnects, ...this.#counts };
  }

  /** Acknowledged messages per thing id. */
  ackedByThing(): Map<string, number> {
    return new Map(this.#devices.map((d) => [d.credentials.thingId, d.acked]));
  }

  /**
   * Stops publishing, waits up to `drainTimeoutMs` for outstanding acknowledgements, then closes
   * every connection (what is still unacknowledged then counts as an error).
   */
  stop(drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS): Promise<FleetCounters> {
    this.#stopped ??= this.#stop(drainTimeoutMs);
    return this.#stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop(0);
  }

  async #stop(drainTimeoutMs: number): Promise<FleetCounters> {
    this.#running = false;
    for (const device of this.#devices) {
      clearTimeout(device.timer);
      device.timer = undefined;
    }
    if (this.#counts.inflight > 0) {
      const settled = new Promise<void>((resolve) => {
        this.#settled = resolve;
      });
      await Promise.race([settled, sleep(drainTimeoutMs, undefined, { ref: false })]);
      this.#settled = undefined;
    }
    const force = this.#counts.inflight > 0;
    await Promise.all(
      this.#devices.filter((d) => d.connected).map((d) => d.transport.close(force).catch(() => {})),
    );
    this.#agent?.destroy();
    // sends that the forced close did not fail explicitly are unacknowledged all the same
    this.#counts.errors += this.#counts.inflight;
    this.#counts.inflight = 0;
    for (const device of this.#devices) device.inflight = 0;
    return this.counters();
  }

  #schedule(device: DeviceState): void {
    if (!this.#running || device.timer || device.inflight >= this.#maxInflight) return;
    const now = performance.now();
    // a device that fell behind (slow acknowledgements) sends at once but does not burst to catch up
    if (device.nextAt < now - this.#intervalMs) device.nextAt = now;
    const delay = device.nextAt - now;
    if (delay > 0) {
      device.timer = setTimeout(() => {
        device.timer = undefined;
        this.#schedule(device);
      }, delay);
      return;
    }
    this.#send(device);
  }

  #send(device: DeviceState): void {
    device.nextAt += this.#intervalMs;
    device.inflight++;
    this.#counts.inflight++;
    this.#counts.sent++;
    const sentAt = Date.now();
    const started = performance.now();
    device.transport
      .send(JSON.stringify(device.board.read(sentAt)))
      .then(
        () => {
          if (!this.#running && device.inflight === 0) return; // already written off by stop
          this.#counts.acked++;
          device.acked++;
          this.#options.onAck?.({
            device: device.index,
            thingId: device.credentials.thingId,
            sentAt,
            latencyMs: performance.now() - started,
          });
        },
        (err: unknown) => {
          if (!this.#running && device.inflight === 0) return;
          this.#counts.errors++;
          this.#options.onError?.(err, device.credentials);
        },
      )
      .finally(() => {
        if (device.inflight === 0) return;
        device.inflight--;
        this.#counts.inflight--;
        if (this.#counts.inflight === 0) this.#settled?.();
        this.#schedule(device);
      });
    this.#schedule(device);
  }
}
