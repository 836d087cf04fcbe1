import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { HealthCheck } from '@telly/runtime';

/**
 * Up while the NATS connection is open and connected (it is down, at once, between a disconnect
 * and the reconnect), with the round trip to the server.
 */
export function natsHealthCheck(nc: NatsConnection): HealthCheck {
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') connected = false;
      else if (status.type === 'reconnect') connected = true;
    }
  })().catch(() => {});
  return async () => {
    if (nc.isClosed()) return { status: 'down', detail: 'NATS connection closed' };
    if (!connected) return { status: 'down', detail: 'NATS disconnected, reconnecting' };
    return { status: 'up', detail: { server: nc.getServer(), rttMs: await nc.rtt() } };
  };
}

/** Up while the `credentials` bucket answers, so keys not yet cached can be looked up. */
export function credentialsHealthCheck(kv: KV): HealthCheck {
  return async () => {
    const status = await kv.status();
    return { status: 'up', detail: { bucket: status.bucket, values: status.values } };
  };
}
