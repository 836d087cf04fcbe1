// The host build of the firmware's core (build/host/telly-device: the core + Eclipse Paho) against
// a real `telly up`: it bootstraps from the API's answer, publishes SenML readings that are read
// back over GraphQL, takes commands (a timed ON ended by its own clock, OFF, an arbitrary
// payload, an unknown name), reports their results, and keeps its readings through a cut
// connection, sending them afterwards with none lost and none twice.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Platform, startPlatform } from '@telly/deploy/testing';
import { freePort, waitFor } from '@telly/harness';
import { FIRMWARE_DIR, make } from './build.ts';

const DEVICE = join(FIRMWARE_DIR, 'build/host/telly-device');

let platform: Platform;
let token: string;
let channelId: string;
let workDir: string;
const devices: RunningDevice[] = [];
let current: RunningDevice | undefined;

before(async () => {
  // the C++ build and `telly up` take the same few seconds, side by side; a loaded machine can
  // take over a minute to start every component (a bound, not a wait)
  const [started] = await Promise.all([startPlatform({}, { healthyWithinMs: 150_000 }), make('device')]);
  platform = started;
  workDir = await mkdtemp(join(tmpdir(), 'telly-firmware-'));
  const { signup } = await platform.gql<{ signup: { accessToken: string } }>(
    `mutation($email: String!) {
      signup(input: { email: $email, password: "correct horse battery staple", tenantName: "firmware" }) { accessToken }
    }`,
    { email: `firmware-${Date.now()}@example.com` },
  );
  token = signup.accessToken;
  const { createChannel } = await gql<{ createChannel: { id: string } }>(
    'mutation { createChannel(input: { name: "greenhouse-1" }) { id } }',
  );
  channelId = createChannel.id;
});

after(async () => {
  for (const device of devices) device.child.kill('SIGKILL');
  if (platform) assert.equal(await platform.stop(), 0);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  return platform.gql<T>(query, variables, token);
}

interface RunningDevice {
  thingId: string;
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves when a stdout line equal to `line` appears after the first `after` lines. */
  line(line: string, after?: number): Promise<number>;
  lines(): string[];
}

/** A thing with bootstrap credentials, bootstrapped as the device would, and the device running. */
async function startDevice(name: string, mqttPort: number, args: string[] = []): Promise<RunningDevice> {
  const externalId = `aa:bb:cc:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;
  const externalKey = randomBytes(12).toString('hex');
  const { createThing } = await gql<{ createThing: { thing: { id: string } } }>(
    'mutation($name: String!) { createThing(input: { name: $name }) { thing { id } } }',
    { name },
  );
  const thingId = createThing.thing.id;
  await gql('mutation($t: ID!, $c: ID!) { connect(thingId: $t, channelId: $c) }', {
    t: thingId,
    c: channelId,
  });
  await gql(
    `mutation($t: ID!, $c: ID!, $externalId: String!, $externalKey: String!) {
      configureBootstrap(input: { thingId: $t, externalId: $externalId, externalKey: $externalKey,
        channelIds: [$c], content: "{}" }) { id }
    }`,
    { t: thingId, c: channelId, externalId, externalKey },
  );
  const res = await fetch(`${platform.apiUrl}/things/bootstrap/${externalId}`, {
    headers: { authorization: `Thing ${externalKey}` },
  });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  const file = join(workDir, `${name}.bootstrap.json`);
  await writeFile(file, body);

  const child = spawn(
    DEVICE,
    ['--url', `tcp://127.0.0.1:${mqttPort}`, '--bootstrap', file, '--channel-name', 'greenhouse-1', ...args],
    { env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } },
  );
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    wake();
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    wake();
  });
  child.once('exit', wake);
  const lines = () => stdout.split('\n').filter(Boolean);
  const device: RunningDevice = {
    thingId,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    lines,
    line: (want, from = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const index = lines().indexOf(want, from);
          if (index >= 0) {
            waiters.delete(check);
            resolve(index);
          } else if (child.exitCode !== null) {
            waiters.delete(check);
            reject(new Error(`the device exited (${child.exitCode}) before "${want}":\n${stderr}`));
          }
        };
        waiters.add(check);
        check();
      }),
  };
  devices.push(device);
  current = device;
  return device;
}

/** Runs a test's body; a failure carries what the device logged (its serial log). */
function deviceTest(name: string, body: () => Promise<void>): void {
  test(name, async () => {
    current = undefined;
    try {
      await body();
    } catch (err) {
      const d = current as RunningDevice | undefined; // set by startDevice meanwhile
      if (!d) throw err;
      throw new Error(
        `${(err as Error).message}\n--- device log ---\n${d.stderr()}\n--- device stdout ---\n${d.stdout()}`,
        { cause: err },
      );
    }
  });
}

interface Point {
  time: string;
  name: string;
  value: number | null;
  stringValue: string | null;
  unit: string | null;
}

async function points(thingId: string, name: string): Promise<Point[]> {
  const { telemetry } = await gql<{ telemetry: Point[] }>(
    'query($t: ID!, $n: String) { telemetry(thingId: $t, name: $n, limit: 1000) { time name value stringValue unit } }',
    { t: thingId, n: name },
  );
  return telemetry;
}

interface CommandView {
  status: string;
  result: unknown;
  reason: string | null;
}

async function sendCommand(thingId: string, name: string, payload?: unknown): Promise<string> {
  const { sendCommand } = await gql<{ sendCommand: { id: string } }>(
    'mutation($t: ID!, $n: String!, $p: JSON) { sendCommand(thingId: $t, name: $n, payload: $p) { id } }',
    { t: thingId, n: name, p: payload ?? null },
  );
  return sendCommand.id;
}

function commandDone(id: string): Promise<CommandView> {
  return waitFor(
    async () => {
      const { command } = await gql<{ command: CommandView | null }>(
        'query($id: ID!) { command(id: $id) { status result reason } }',
        { id },
      );
      return command && ['SUCCEEDED', 'FAILED'].includes(command.status) ? command : undefined;
    },
    { timeoutMs: 15_000, what: `command ${id} completed` },
  );
}

deviceTest('readings bootstrapped and published by the device are read back through GraphQL', async () => {
  const device = await startDevice('esp-readings', platform.ports.mqtt, ['--interval-ms', '250']);
  const latest = await waitFor(
    async () => {
      const { latest: values } = await gql<{ latest: Point[] }>(
        'query($t: ID!) { latest(thingId: $t) { time name value unit } }',
        { t: device.thingId },
      );
      const names = new Set(values.map((p) => p.name));
      return ['temperature', 'humidity', 'soil_moisture', 'led'].every((n) => names.has(n))
        ? values
        : undefined;
    },
    { timeoutMs: 20_000, what: 'the device’s readings in latest()' },
  );
  const byName = new Map(latest.map((p) => [p.name, p]));
  assert.equal(byName.get('temperature')!.unit, 'Cel');
  assert.ok(Math.abs(byName.get('temperature')!.value! - 21) < 5, JSON.stringify(latest));
  assert.equal(byName.get('humidity')!.unit, '%RH');
  assert.equal(byName.get('soil_moisture')!.unit, '%');
  assert.equal(byName.get('led')!.value, 0);
  // the base time is the device's clock, so stored times are the reading times
  const age = Date.now() - Date.parse(byName.get('temperature')!.time);
  assert.ok(age >= 0 && age < 20_000, `reading time ${byName.get('temperature')!.time}`);
  device.child.kill('SIGTERM');
});

deviceTest(
  'a timed ON lights the LED, is reported, and ends by the device’s clock; OFF, echo and unknown commands',
  async () => {
    const device = await startDevice('esp-commands', platform.ports.mqtt, ['--interval-ms', '1000']);
    await waitFor(async () => (await points(device.thingId, 'led')).length > 0, {
      timeoutMs: 20_000,
      what: 'the first reading',
    });

    const timed = await sendCommand(device.thingId, 'on', { seconds: 2 });
    const onLine = await device.line('LED ON');
    const done = await commandDone(timed);
    assert.equal(done.status, 'SUCCEEDED');
    assert.deepEqual(done.result, { led: 'ON', seconds: 2 });
    await device.line('LED OFF', onLine + 1);
    // each change of the LED is a reading stamped by the device's clock: read back, ON then OFF
    // 2 s later (plus at most a few turns of its loop), by the device's own timer
    const [litAt, darkAt] = await waitFor(
      async () => {
        const led = await points(device.thingId, 'led');
        const on = led.findIndex((p) => p.value === 1);
        const off = led.findIndex((p, i) => i > on && p.value === 0);
        return on >= 0 && off > on ? [Date.parse(led[on]!.time), Date.parse(led[off]!.time)] : undefined;
      },
      { timeoutMs: 15_000, what: 'led 1 then 0 in the telemetry' },
    );
    // the times travel as SenML seconds with a millisecond fraction: a float's rounding can take
    // a millisecond off either of them
    assert.ok(darkAt - litAt >= 2_000 - 2, `the LED was on for ${darkAt - litAt} ms, 2 s were asked for`);
    assert.ok(darkAt - litAt < 2_500, `the LED was on for ${darkAt - litAt} ms, 2 s were asked for`);

    const on = await sendCommand(device.thingId, 'led', 'ON');
    await device.line('LED ON', onLine + 2);
    assert.deepEqual((await commandDone(on)).result, { led: 'ON' });
    const off = await sendCommand(device.thingId, 'OFF');
    await device.line('LED OFF', onLine + 3);
    assert.deepEqual((await commandDone(off)).result, { led: 'OFF' });

    const payload = { schedule: [{ at: '06:00', minutes: 5 }], note: 'arbitrary "json"' };
    const echoed = await commandDone(await sendCommand(device.thingId, 'echo', payload));
    assert.equal(echoed.status, 'SUCCEEDED');
    assert.deepEqual(echoed.result, payload);

    const unknown = await commandDone(await sendCommand(device.thingId, 'reboot'));
    assert.equal(unknown.status, 'FAILED');
    assert.equal(unknown.reason, 'unknown command reboot');
    const invalid = await commandDone(await sendCommand(device.thingId, 'on', { seconds: 0 }));
    assert.equal(invalid.status, 'FAILED');
    assert.match(invalid.reason ?? '', /seconds must be a whole number/);
    device.child.kill('SIGTERM');
  },
);

deviceTest(
  'a timed command kept by the platform (duration, revertPayload) turns the LED on, then off',
  async () => {
    const device = await startDevice('esp-platform-timer', platform.ports.mqtt, ['--interval-ms', '1000']);
    await waitFor(() => /mqtt connected/.test(device.stderr()), {
      timeoutMs: 15_000,
      what: 'the device connected',
    });
    const { sendCommand: sent } = await gql<{ sendCommand: { id: string } }>(
      `mutation($t: ID!) {
      sendCommand(thingId: $t, name: "led", payload: "ON", duration: "2s", revertPayload: "OFF") { id }
    }`,
      { t: device.thingId },
    );
    const onLine = await device.line('LED ON');
    assert.deepEqual((await commandDone(sent.id)).result, { led: 'ON' });
    // the revert is a second command, sent by the platform's schedule, not by the device's timer
    await device.line('LED OFF', onLine + 1);
    const revert = await waitFor(
      async () => {
        const { command } = await gql<{ command: { revert: (CommandView & { id: string }) | null } }>(
          'query($id: ID!) { command(id: $id) { revert { id status result reason } } }',
          { id: sent.id },
        );
        return command.revert?.status === 'SUCCEEDED' ? command.revert : undefined;
      },
      { timeoutMs: 15_000, what: 'the revert succeeded' },
    );
    assert.deepEqual(revert.result, { led: 'OFF' });
    assert.match(device.stderr(), new RegExp(`command ${revert.id}: led`));
    device.child.kill('SIGTERM');
  },
);

/** A TCP relay to the MQTT port that can be cut (every connection reset, new ones refused). */
async function relay(target: number) {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) return client.resetAndDestroy();
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cut() {
      up = false;
      for (const s of sockets) s.resetAndDestroy();
    },
    restore() {
      up = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

deviceTest(
  'readings made while the connection is cut are kept and sent afterwards: none lost, none twice',
  async () => {
    const link = await relay(platform.ports.mqtt);
    const SAMPLES = 16;
    const device = await startDevice('esp-offline', link.port, [
      '--interval-ms',
      '200',
      '--samples',
      String(SAMPLES),
    ]);
    const queued = () => [...device.stderr().matchAll(/reading (\S+) queued: (\[.*\])$/gm)];
    await waitFor(() => /mqtt connected/.test(device.stderr()), {
      timeoutMs: 15_000,
      what: 'the device connected',
    });
    await waitFor(() => queued().length >= 3, { timeoutMs: 15_000, what: 'three readings' });

    link.cut();
    await waitFor(() => /mqtt connection lost/.test(device.stderr()), {
      timeoutMs: 15_000,
      what: 'the cut seen',
    });
    const atCut = queued().length;
    await waitFor(() => queued().length >= atCut + 4, { timeoutMs: 15_000, what: 'readings made while cut' });
    // it tries again while cut, is refused, and backs off
    await waitFor(() => /mqtt connect failed/.test(device.stderr()), {
      timeoutMs: 15_000,
      what: 'a refused retry',
    });
    link.restore();

    await waitFor(() => queued().length === SAMPLES, {
      timeoutMs: 15_000,
      what: `all ${SAMPLES} readings made`,
    });
    const sentTimes = queued().map((m) => {
      const pack = JSON.parse(m[2]!) as Array<{ bt?: number }>;
      return Math.round(pack[0]!.bt! * 1000);
    });
    const stored = await waitFor(
      async () => {
        const got = await points(device.thingId, 'temperature');
        return got.length >= SAMPLES ? got : undefined;
      },
      { timeoutMs: 30_000, what: `${SAMPLES} stored temperatures` },
    );
    assert.deepEqual(
      stored.map((p) => Date.parse(p.time)),
      [...sentTimes].sort((a, b) => a - b),
      'every reading stored once, at its own time',
    );
    assert.match(device.stderr(), /mqtt connected, messages waiting: [1-9]/);
    device.child.kill('SIGTERM');
    await link.close();
  },
);
