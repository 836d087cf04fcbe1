// `telly simulate`: provisions a fleet through the GraphQL API and runs it against the MQTT or
// HTTP bridge for a while, printing progress and, at the end, what was sent, acknowledged and
// refused with acknowledgement latencies. Ctrl-C stops it early and still prints the summary.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { isDurationError, parseDuration } from '@telly/schemas';
import { isUsageError, UsageError } from './errors.ts';
import { DEFAULT_CONNECT_RATE, DEFAULT_MAX_INFLIGHT, DEFAULT_RATE, DEFAULT_VALUES, Fleet } from './fleet.ts';
import { LatencySample } from './latency-sample.ts';
import { type ProvisionedFleet, provisionFleet } from './provision.ts';
import type { DeviceCredentials, Protocol } from './types.ts';

export const DEFAULT_API = 'http://127.0.0.1:4000';
export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';
export const DEFAULT_HTTP_URL = 'http://127.0.0.1:8080';
/** @default simulated devices */
export const DEFAULT_DEVICES = 10;
/** @default run length */
export const DEFAULT_DURATION = '60s';
const PROGRESS_EVERY_MS = 5_000;

export const SIMULATE_USAGE = `usage: telly simulate [options]

Provisions things through the GraphQL API (one channel, N things connected to it) and has each
publish SenML packs like a DHT11 + soil-moisture board: QoS 1 over MQTT, keep-alive POSTs over HTTP.

  --api URL            GraphQL API (default ${DEFAULT_API})
  --token TOKEN        access token or API key of an operator, or:
  --email E --password P   log in (signs up first when the account does not exist)
  --devices N          things to provision and run (default ${DEFAULT_DEVICES})
  --protocol P         mqtt or http (default mqtt)
  --mqtt URL           MQTT bridge (default ${DEFAULT_MQTT_URL})
  --http URL           HTTP bridge (default ${DEFAULT_HTTP_URL})
  --rate R             messages per second per device (default ${DEFAULT_RATE}; the bridge allows 100)
  --values N           records per SenML pack (default ${DEFAULT_VALUES}: temperature, humidity, soil_moisture)
  --duration D         how long to publish: 90, 30s, 10m, 1h (default ${DEFAULT_DURATION})
  --connect-rate N     new connections per second while connecting (default ${DEFAULT_CONNECT_RATE})
  --max-inflight N     unacknowledged messages per device (default ${DEFAULT_MAX_INFLIGHT})
  --subtopic S         publish on channels/{channel}/messages/S
  --help               this text`;

export interface SimulateArgs {
  api: string;
  token: string | undefined;
  email: string | undefined;
  password: string | undefined;
  devices: number;
  protocol: Protocol;
  mqtt: string;
  http: string;
  rate: number;
  values: number;
  durationMs: number;
  connectRate: number;
  maxInflight: number;
  subtopic: string | undefined;
}

/** `--<option>`: the one duration grammar of `@telly/schemas`, a bare number in seconds (`90`, `30s`, `10m`, `500ms`). */
export function durationOption(text: string, option: string): number {
  try {
    return parseDuration(text, { bareUnit: 's' });
  } catch (err) {
    if (isDurationError(err))
      throw new UsageError(`--${option}: expected a duration such as 90, 30s, 10m, 1h (got ${text})`, {
        cause: err,
      });
    throw err;
  }
}

function positive(text: string | undefined, option: string, fallback: number, integer = true): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0) || (integer && !Number.isInteger(value)))
    throw new UsageError(`--${option}: expected a positive ${integer ? 'integer' : 'number'} (got ${text})`);
  return value;
}

/** Parses `telly simulate` arguments; undefined means --help was asked for. */
export function parseSimulateArgs(args: string[]): SimulateArgs | undefined {
  let values: ReturnType<typeof parseOptions>['values'];
  try {
    ({ values } = parseOptions(args));
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  if (values.help) return undefined;
  const protocol = values.protocol ?? 'mqtt';
  if (protocol !== 'mqtt' && protocol !== 'http')
    throw new UsageError(`--protocol: mqtt or http (got ${protocol})`);
  if (!values.token && !(values.email && values.password))
    throw new UsageError('give --token, or --email and --password');
  return {
    api: values.api ?? DEFAULT_API,
    token: values.token,
    email: values.email,
    password: values.password,
    devices: positive(values.devices, 'devices', DEFAULT_DEVICES),
    protocol,
    mqtt: values.mqtt ?? DEFAULT_MQTT_URL,
    http: values.http ?? DEFAULT_HTTP_URL,
    rate: positive(values.rate, 'rate', DEFAULT_RATE, false),
    values: positive(values.values, 'values', DEFAULT_VALUES),
    durationMs: durationOption(values.duration ?? DEFAULT_DURATION, 'duration'),
    connectRate: positive(values['connect-rate'], 'connect-rate', DEFAULT_CONNECT_RATE, false),
    maxInflight: positive(values['max-inflight'], 'max-inflight', DEFAULT_MAX_INFLIGHT),
    subtopic: values.subtopic,
  };
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      api: { type: 'string' },
      token: { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      devices: { type: 'string' },
      protocol: { type: 'string' },
      mqtt: { type: 'string' },
      http: { type: 'string' },
      rate: { type: 'string' },
      values: { type: 'string' },
      duration: { type: 'string' },
      'connect-rate': { type: 'string' },
      'max-inflight': { type: 'string' },
      subtopic: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

const round = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1));

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Runs `telly simulate`. Bad arguments print the usage and set exit code 2; a platform that
 * cannot be reached or refuses the provisioning prints why and sets exit code 1.
 */
export async function simulateCommand(args: string[]): Promise<void> {
  let options: SimulateArgs | undefined;
  try {
    options = parseSimulateArgs(args);
  } catch (err) {
    if (!isUsageError(err)) throw err;
    console.error(`${err.message}\n\n${SIMULATE_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (!options) {
    console.log(SIMULATE_USAGE);
    return;
  }
  const aborter = new AbortController();
  const onSignal = () => aborter.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(`provisioning ${options.devices} things through ${options.api}`);
    let fleet: ProvisionedFleet;
    try {
      fleet = await provisionFleet({
        api: options.api,
        token: options.token,
        email: options.email,
        password: options.password,
        devices: options.devices,
        signal: aborter.signal,
      });
    } catch (err) {
      if (aborter.signal.aborted) return;
      console.error(`could not provision through ${options.api}: ${messageOf(err)}`);
      process.exitCode = 1;
      return;
    }
    console.log(`channel ${fleet.channelId}: ${fleet.devices.length} things connected`);
    await run(options, fleet.devices, aborter.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function run(options: SimulateArgs, devices: readonly DeviceCredentials[], signal: AbortSignal) {
  const latencies = new LatencySample();
  const errors = new Map<string, number>();
  const url = options.protocol === 'mqtt' ? options.mqtt : options.http;
  await using fleet = new Fleet({
    protocol: options.protocol,
    url,
    devices,
    rate: options.rate,
    values: options.values,
    connectRate: options.connectRate,
    maxInflight: options.maxInflight,
    ...(options.subtopic ? { subtopic: options.subtopic } : {}),
    onAck: (ack) => latencies.add(ack.latencyMs),
    onError: (err) => {
      const message = messageOf(err);
      errors.set(message, (errors.get(message) ?? 0) + 1);
    },
  });
  console.log(`connecting ${devices.length} devices to ${url} (${options.connectRate}/s)`);
  const interrupted = (err: unknown) => {
    if (!signal.aborted) throw err;
  };
  await fleet.connect(signal).catch(interrupted);
  const started = performance.now();
  if (!signal.aborted) {
    const connected = fleet.counters();
    console.log(
      `${connected.connected} connected, ${connected.connectFailures} failed; publishing for ${options.durationMs / 1000} s`,
    );
    fleet.start();
    const progress = setInterval(() => {
      const c = fleet.counters();
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `${seconds.toFixed(0)} s: sent ${c.sent}, acked ${c.acked} (${(c.acked / seconds).toFixed(0)}/s), errors ${c.errors}, in flight ${c.inflight}, disconnects ${c.disconnects}`,
      );
    }, PROGRESS_EVERY_MS);
    await sleep(options.durationMs, undefined, { signal })
      .catch(interrupted)
      .finally(() => clearInterval(progress));
  }
  const seconds = (performance.now() - started) / 1000;
  const c = await fleet.stop();
  const [p50, p95, p99, max] = latencies.percentiles([50, 95, 99, 100]);
  console.log(
    [
      `${signal.aborted ? 'interrupted' : 'done'} after ${seconds.toFixed(1)} s`,
      `  devices      ${c.connected} connected, ${c.connectFailures} failed to connect, ${c.disconnects} disconnects`,
      `  messages     sent ${c.sent}, acked ${c.acked}, errors ${c.errors}`,
      `  throughput   ${(c.acked / seconds).toFixed(0)} msg/s, ${((c.acked * options.values) / seconds).toFixed(0)} points/s`,
      `  ack latency  p50 ${round(p50)} ms, p95 ${round(p95)} ms, p99 ${round(p99)} ms, max ${round(max)} ms`,
      ...[...errors].map(([message, count]) => `  error ×${count}: ${message}`),
    ].join('\n'),
  );
}
