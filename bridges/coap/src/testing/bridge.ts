// Test support: a CoAP bridge on a free UDP port over a bridge test stack.
import type { BridgeTestStack } from '@telly/bridge-core/testing';
import { createMetricsRegistry, HealthChecks, natsHealthCheck } from '@telly/runtime';
import { type CoapBridge, type CoapBridgeOptions, startCoapBridge } from '../bridge.ts';

export interface TestCoapBridge extends CoapBridge {
  metrics: ReturnType<typeof createMetricsRegistry>;
  health: HealthChecks;
}

/** A bridge on 127.0.0.1 and a free port, with its own metrics registry and health checks. */
export async function startTestBridge(
  stack: BridgeTestStack,
  options: Partial<Pick<CoapBridgeOptions, 'rateLimiter' | 'publisher'>> & {
    config?: Partial<CoapBridgeOptions['config']>;
  } = {},
): Promise<TestCoapBridge> {
  const metrics = createMetricsRegistry('coap-bridge-test');
  const health = new HealthChecks().add('nats', natsHealthCheck(stack.nc));
  const bridge = await startCoapBridge({
    nc: stack.nc,
    logger: stack.logger,
    metrics,
    health,
    config: { port: 0, host: '127.0.0.1', ...options.config },
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    ...(options.publisher ? { publisher: options.publisher } : {}),
  });
  return Object.assign(bridge, { metrics, health });
}
