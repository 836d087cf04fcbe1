// Test support: steady device load against several instances of the bridges, as a fleet behind
// a load balancer would send it. One MQTT device (QoS 1, persistent session, failing over to the
// next bridge when its connection drops) and one HTTP device (each POST to the next bridge, a
// failed one retried on the next with the same Idempotency-Key), each message an id of its own.
// It records what was acknowledged, how long each message took from its first send to its ack,
// and every refusal and retry, for the test to check against the log and the projections.
import mqtt, { type MqttClient, type Packet } from 'mqtt';

export interface Device {
  thingId: string;
  key: string;
  channelId: string;
}

export interface BridgeAddress {
  mqttPort: number;
  httpPort: number;
}

export interface LoadOptions {
  mqtt: Device;
  http: Device;
  /** The bridges, by instance (the MQTT device fails over in this order; `bridges()` is read at every POST). */
  bridges: () => BridgeAddress[];
  /** Messages per second per protocol. @default 40 */
  rate?: number;
  /** Most unacknowledged messages per protocol. @default 40 */
  window?: number;
  /** The reading `v` of the protocol's `seq`-th message (from 0). @default always 1 */
  value?: (seq: number) => number;
}

/** One message's life: when it was first sent, when it was acked, how many attempts it took. */
export interface Delivery {
  firstSentAt: number;
  ackedAt?: number;
  attempts: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const TICK_MS = 100;

function reason(err: unknown): string {
  const e = err as { code?: string; name?: string; cause?: { code?: string; name?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.name ?? e.name ?? 'error';
}

export class DeviceLoad {
  readonly mqtt = new Map<string, Delivery>();
  readonly http = new Map<string, Delivery>();
  /** Refusals no retry should be needed for: an HTTP 4xx other than 429, a CONNACK refusal. */
  readonly refusals: string[] = [];
  /** Transient failures, by kind (connection refused, 503, a dropped connection…). */
  readonly retries: Record<string, number> = {};
  mqttReconnects = 0;
  readonly #options: Required<Omit<LoadOptions, 'mqtt' | 'http' | 'bridges'>> & LoadOptions;
  #client: MqttClient | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  readonly #tasks = new Set<Promise<void>>();
  #nextHttpBridge = 0;
  readonly #inflight = { mqtt: 0, http: 0 };

  constructor(options: LoadOptions) {
    this.#options = { rate: 40, window: 40, value: () => 1, ...options };
  }

  #bump(kind: string): void {
    this.retries[kind] = (this.retries[kind] ?? 0) + 1;
  }

  /** Connects the MQTT device and starts sending on both protocols. */
  async start(): Promise<void> {
    const { mqtt: device } = this.#options;
    const client = mqtt.connect({
      servers: this.#options.bridges().map((b) => ({ host: '127.0.0.1', port: b.mqttPort })),
      clientId: `load-${device.thingId.slice(-8)}`,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 200,
      connectTimeout: 5_000,
      reconnectOnConnackError: true,
      username: device.thingId,
      password: device.key,
    });
    this.#client = client;
    client.on('error', (err) => {
      const code = (err as { code?: number }).code;
      // a CONNACK refusal (bad credentials, not authorized) is a refusal; a dropped socket is not
      if (typeof code === 'number' && code > 0 && code !== 3) this.refusals.push(`mqtt CONNACK ${code}`);
      else this.#bump(`mqtt ${reason(err)}`);
    });
    client.on('reconnect', () => {
      this.mqttReconnects++;
    });
    client.on('packetsend', (packet: Packet) => {
      if (packet.cmd !== 'publish') return;
      const id = (JSON.parse(String(packet.payload)) as { vs?: string }[])[0]?.vs ?? '';
      const delivery = this.mqtt.get(id);
      if (delivery) delivery.attempts++;
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      setTimeout(() => reject(new Error('the MQTT device did not connect within 10 s')), 10_000);
    });
    this.#running = true;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const { rate, window } = this.#options;
    const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1_000));
    let n = 0;
    while (this.#running) {
      const tick = Date.now();
      for (let i = 0; i < perTick; i++) {
        const id = String(n).padStart(6, '0');
        const v = this.#options.value(n++);
        if (this.#inflight.mqtt < window) this.#track('mqtt', this.#sendMqtt(`mqtt-${id}`, v));
        if (this.#inflight.http < window) this.#track('http', this.#sendHttp(`http-${id}`, v));
      }
      await sleep(Math.max(0, tick + TICK_MS - Date.now()));
    }
  }

  #track(protocol: 'mqtt' | 'http', task: Promise<void>): void {
    this.#inflight[protocol]++;
    this.#tasks.add(task);
    void task.finally(() => {
      this.#inflight[protocol]--;
      this.#tasks.delete(task);
    });
  }

  async #sendMqtt(id: string, v: number): Promise<void> {
    const client = this.#client!;
    const delivery: Delivery = { firstSentAt: Date.now(), attempts: 0 };
    this.mqtt.set(id, delivery);
    const { channelId } = this.#options.mqtt;
    for (;;) {
      try {
        // MQTT.js keeps an unacked QoS 1 publish in its store and resends it (same packet id) on
        // the next connection: the promise resolves on the PUBACK of whichever copy is acked
        await client.publishAsync(
          `channels/${channelId}/messages`,
          JSON.stringify([
            { n: 'id', vs: id },
            { n: 'v', v },
          ]),
          { qos: 1 },
        );
        delivery.ackedAt = Date.now();
        return;
      } catch (err) {
        // a publish queued while the store was replayed and the connection closed: never sent
        this.#bump(`mqtt publish rejected: ${(err as Error).message}`);
        await sleep(100);
      }
    }
  }

  async #sendHttp(id: string, v: number): Promise<void> {
    const delivery: Delivery = { firstSentAt: Date.now(), attempts: 0 };
    this.http.set(id, delivery);
    const { key, channelId } = this.#options.http;
    const body = JSON.stringify([
      { n: 'id', vs: id },
      { n: 'v', v },
    ]);
    const headers = {
      authorization: `Thing ${key}`,
      'content-type': 'application/senml+json',
      'idempotency-key': id,
    };
    for (;;) {
      const bridges = this.#options.bridges();
      const bridge = bridges[this.#nextHttpBridge++ % bridges.length]!;
      const url = `http://127.0.0.1:${bridge.httpPort}/channels/${channelId}/messages`;
      delivery.attempts++;
      try {
        const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        if (res.status === 202) {
          delivery.ackedAt = Date.now();
          return;
        }
        if (res.status >= 400 && res.status < 500 && res.status !== 429) {
          this.refusals.push(`http ${res.status} ${id}: ${text.slice(0, 200)}`);
        } else {
          this.#bump(`http ${res.status}`);
        }
      } catch (err) {
        this.#bump(`http ${reason(err)}`);
      }
      await sleep(Math.min(1_000, 50 * delivery.attempts));
    }
  }

  /** Stops sending new messages and waits for every one sent to be acknowledged. */
  async stop(timeoutMs = 60_000): Promise<{ settled: boolean }> {
    this.#running = false;
    await this.#loop;
    const deadline = Date.now() + timeoutMs;
    while (this.#tasks.size > 0 && Date.now() < deadline) await Promise.race([...this.#tasks, sleep(500)]);
    const settled = this.#tasks.size === 0;
    await this.#client?.endAsync(!settled);
    return { settled };
  }

  /** Acknowledged messages so far, both protocols. */
  get acked(): number {
    let count = 0;
    for (const d of [...this.mqtt.values(), ...this.http.values()]) if (d.ackedAt !== undefined) count++;
    return count;
  }

  /** The longest first-send → ack of the messages first sent in [from, to). */
  longestDelivery(from: number, to: number): { ms: number; id: string | undefined } {
    let longest = { ms: 0, id: undefined as string | undefined };
    for (const [id, d] of [...this.mqtt, ...this.http]) {
      if (d.firstSentAt < from || d.firstSentAt >= to) continue;
      const ms = (d.ackedAt ?? Date.now()) - d.firstSentAt;
      if (ms > longest.ms) longest = { ms, id };
    }
    return longest;
  }
}
