// A simulated device over MQTT 3.1.1: username = thing id, password = thing key, QoS 1 publishes
// on channels/{channel}/messages[/subtopic] that resolve on PUBACK (docs/devices.md).
import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceCredentials, Transport } from './types.ts';

export interface MqttTransportOptions {
  /** Wait before reconnecting after the connection dropped; 0 never reconnects. @default 1000 */
  reconnectMs?: number;
  /** @default 60 */
  keepaliveSeconds?: number;
  subtopic?: string | undefined;
}

export class MqttTransport implements Transport {
  readonly #url: string;
  readonly #device: DeviceCredentials;
  readonly #options: MqttTransportOptions;
  readonly #topic: string;
  #client: MqttClient | undefined;
  #disconnects = 0;

  constructor(url: string, device: DeviceCredentials, options: MqttTransportOptions = {}) {
    this.#url = url;
    this.#device = device;
    this.#options = options;
    const suffix = options.subtopic ? `/${options.subtopic}` : '';
    this.#topic = `channels/${device.channelId}/messages${suffix}`;
  }

  get disconnects(): number {
    return this.#disconnects;
  }

  async connect(): Promise<void> {
    const client = await mqtt.connectAsync(
      this.#url,
      {
        protocolVersion: 4,
        clientId: this.#device.thingId,
        username: this.#device.thingId,
        password: this.#device.key,
        clean: true,
        keepalive: this.#options.keepaliveSeconds ?? 60,
        reconnectPeriod: this.#options.reconnectMs ?? 1_000,
        connectTimeout: 30_000,
      },
      false,
    );
    // errors also surface as failed publishes or closes; without a listener they would throw
    client.on('error', () => {});
    client.on('close', () => {
      if (!client.disconnecting) this.#disconnects++;
    });
    this.#client = client;
  }

  async send(body: string): Promise<void> {
    if (!this.#client) throw new Error('not connected');
    await this.#client.publishAsync(this.#topic, body, { qos: 1 });
  }

  async close(force: boolean): Promise<void> {
    await this.#client?.endAsync(force);
  }
}
