// Test support: an MQTT bridge on free ports over a bridge test stack, and mosquitto_pub as a
// third-party device.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BridgeTestStack, ProvisionedThing } from '@telly/bridge-core/testing';
import { createMetricsRegistry } from '@telly/runtime';
import { type MqttBridge, type MqttBridgeOptions, startMqttBridge } from '../bridge.ts';

/** A bridge on port 0 (TCP and WebSocket), `config` and `options` over the defaults. */
export function startTestBridge(
  stack: BridgeTestStack,
  id: string,
  config: Partial<MqttBridgeOptions['config']> = {},
  options: Partial<Pick<MqttBridgeOptions, 'maxPayloadBytes' | 'metrics'>> = {},
): Promise<MqttBridge> {
  return startMqttBridge({
    nc: stack.nc,
    logger: stack.logger,
    metrics: createMetricsRegistry(`mqtt-${id}`),
    config: { port: 0, wsPort: 0, tls: undefined, ...config },
    id,
    ...options,
  });
}

/** `mosquitto_pub -q 1` as the thing, of `-m <text>` or `-f <file>`; rejects when it exits non-zero. */
export function mosquittoPub(
  port: number,
  thing: Pick<ProvisionedThing, 'thingId' | 'key'>,
  topic: string,
  message: ['-m' | '-f', string],
): Promise<{ stdout: string; stderr: string }> {
  const login = ['-u', thing.thingId, '-P', thing.key];
  return promisify(execFile)('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-q',
    '1',
    ...login,
    '-t',
    topic,
    ...message,
  ]);
}
