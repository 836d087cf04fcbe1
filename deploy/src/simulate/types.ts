// What the simulator works with: a device's credentials, one acknowledged message, the
// counters of a run, and the transport a device publishes through.

/** What a device needs to publish: its thing id and key, and the channel it is connected to. */
export interface DeviceCredentials {
  thingId: string;
  key: string;
  channelId: string;
}

export type Protocol = 'mqtt' | 'http';

/** One message the platform acknowledged (MQTT PUBACK, HTTP 202). */
export interface Ack {
  /** Index of the device in the fleet. */
  device: number;
  thingId: string;
  /** When it was sent, ms since the epoch; also the pack's SenML base time. */
  sentAt: number;
  /** Send to acknowledgement, high resolution. */
  latencyMs: number;
}

/** A fleet's counters; `sent = acked + errors + inflight` at any time. */
export interface FleetCounters {
  devices: number;
  /** Devices whose connection is established (always all of them over HTTP). */
  connected: number;
  /** Devices that could not connect (refused, unreachable); they send nothing. */
  connectFailures: number;
  sent: number;
  acked: number;
  /** Sends that failed: refused, connection lost without retry, or unacknowledged at stop. */
  errors: number;
  /** Sent and not yet acknowledged nor failed. */
  inflight: number;
  /** Connections the platform or the network closed (MQTT reconnects after these). */
  disconnects: number;
}

/** How one device talks to the platform; `send` resolves once the platform acknowledged. */
export interface Transport {
  connect(): Promise<void>;
  send(body: string): Promise<void>;
  /** Closes the connection; with `force`, without waiting for unacknowledged messages. */
  close(force: boolean): Promise<void>;
  readonly disconnects: number;
}
