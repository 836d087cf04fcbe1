import type { KV } from '@nats-io/kv';
import type { HealthCheck } from '@telly/runtime';

/** Up while the `credentials` bucket answers, so keys not yet cached can be looked up. */
export function credentialsHealthCheck(kv: KV): HealthCheck {
  return async () => {
    const status = await kv.status();
    return { status: 'up', detail: { bucket: status.bucket, values: status.values } };
  };
}
