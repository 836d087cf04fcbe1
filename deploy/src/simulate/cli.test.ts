import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_API, durationOption, parseSimulateArgs, simulateCommand } from './cli.ts';
import { isUsageError } from './errors.ts';

test('defaults fill in what is not given', () => {
  const args = parseSimulateArgs(['--token', 't']);
  assert.ok(args);
  assert.equal(args.api, DEFAULT_API);
  assert.deepEqual(
    [
      args.devices,
      args.protocol,
      args.rate,
      args.values,
      args.durationMs,
      args.connectRate,
      args.maxInflight,
    ],
    [10, 'mqtt', 1, 3, 60_000, 100, 1],
  );
});

test('options are parsed, durations with units', () => {
  const args = parseSimulateArgs([
    '--email=a@example.com',
    '--password=secret',
    '--devices=5000',
    '--protocol=http',
    '--rate=0.5',
    '--values=5',
    '--duration=10m',
    '--connect-rate=250',
  ]);
  assert.ok(args);
  assert.deepEqual(
    [args.devices, args.protocol, args.rate, args.values, args.durationMs, args.connectRate],
    [5000, 'http', 0.5, 5, 600_000, 250],
  );
  assert.equal(durationOption('90', 'duration'), 90_000);
  assert.equal(durationOption('500ms', 'duration'), 500);
  assert.equal(durationOption('1h', 'duration'), 3_600_000);
});

test('--help asks for the usage text', () => {
  assert.equal(parseSimulateArgs(['--help']), undefined);
});

test('bad arguments fail naming the option', () => {
  const fails = (args: string[], pattern: RegExp) =>
    assert.throws(
      () => parseSimulateArgs(args),
      (err) => isUsageError(err) && pattern.test(err.message),
    );
  fails(['--token=t', '--devices=0'], /--devices: expected a positive integer/);
  fails(['--token=t', '--devices=2.5'], /--devices/);
  fails(['--token=t', '--rate=fast'], /--rate: expected a positive number/);
  fails(['--token=t', '--protocol=coap'], /--protocol: mqtt or http/);
  fails(['--token=t', '--duration=soon'], /--duration/);
  fails(['--devices=3'], /--token, or --email and --password/);
  fails(['--token=t', '--nope'], /nope/);
});

test('telly simulate with bad arguments prints why and the usage, exit code 2', async (t) => {
  const printed: string[] = [];
  t.mock.method(console, 'error', (text: string) => printed.push(text));
  t.after(() => {
    process.exitCode = undefined;
  });
  await simulateCommand(['--devices=none', '--token=t']);
  assert.equal(process.exitCode, 2);
  assert.match(printed.join('\n'), /--devices: expected a positive integer[\s\S]*usage: telly simulate/);
});

test('telly simulate against nothing listening says it could not provision, exit code 1', async (t) => {
  const printed: string[] = [];
  t.mock.method(console, 'error', (text: string) => printed.push(text));
  t.mock.method(console, 'log', () => {});
  t.after(() => {
    process.exitCode = undefined;
  });
  await simulateCommand(['--api=http://127.0.0.1:9', '--token=t', '--devices=1']);
  assert.equal(process.exitCode, 1);
  assert.match(printed.join('\n'), /could not provision through http:\/\/127\.0\.0\.1:9/);
});
