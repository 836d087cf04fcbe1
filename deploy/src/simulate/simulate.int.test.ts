import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '@telly/harness';
import { type Platform, startPlatform } from '../testing/platform.ts';
import { simulateCommand } from './cli.ts';
import { Fleet } from './fleet.ts';
import { provisionFleet } from './provision.ts';
import type { Protocol } from './types.ts';

let platform: Platform;
before(async () => {
  platform = await startPlatform();
});
after(async () => {
  assert.equal(await platform?.stop(), 0);
});

const POINTS = 'query($t: ID!) { telemetry(thingId: $t, limit: 10000) { time name } }';

/** Waits until each thing's stored points equal its acknowledged messages × values. */
async function assertStored(token: string, acked: Map<string, number>, values: number): Promise<void> {
  const stored = async (thingId: string) =>
    (await platform.gql<{ telemetry: unknown[] }>(POINTS, { t: thingId }, token)).telemetry.length;
  for (const [thingId, messages] of acked) {
    await waitFor(async () => (await stored(thingId)) === messages * values, {
      timeoutMs: 15_000,
      what: `${messages * values} points of ${thingId}`,
    });
  }
}

test('a fleet larger than the API alias limit is provisioned, whatever batch is asked for', async () => {
  const provisioned = await provisionFleet({
    api: platform.apiUrl,
    email: `sim-batch-${Date.now()}@example.com`,
    password: 'correct horse battery staple',
    devices: 40,
    batch: 40,
  });
  assert.equal(provisioned.devices.length, 40);
  assert.equal(new Set(provisioned.devices.map((d) => d.thingId)).size, 40);
});

for (const protocol of ['mqtt', 'http'] as const satisfies Protocol[]) {
  test(`5 devices over ${protocol} for 2 s: every acknowledged message is stored, the counters add up`, async () => {
    const provisioned = await provisionFleet({
      api: platform.apiUrl,
      email: `sim-${protocol}-${Date.now()}@example.com`,
      password: 'correct horse battery staple',
      devices: 5,
    });
    assert.equal(provisioned.devices.length, 5);
    const url =
      protocol === 'mqtt'
        ? `mqtt://127.0.0.1:${platform.ports.mqtt}`
        : `http://127.0.0.1:${platform.ports.http}`;
    const latencies: number[] = [];
    await using fleet = new Fleet({
      protocol,
      url,
      devices: provisioned.devices,
      rate: 10,
      values: 3,
      onAck: (ack) => latencies.push(ack.latencyMs),
    });
    await fleet.connect();
    fleet.start();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const counters = await fleet.stop();
    assert.equal(counters.connected, 5);
    assert.equal(counters.errors, 0);
    assert.equal(counters.sent, counters.acked + counters.errors + counters.inflight);
    assert.ok(counters.acked >= 5 * 10, `acked ${counters.acked}`);
    assert.equal(latencies.length, counters.acked);
    const acked = fleet.ackedByThing();
    assert.equal(
      [...acked.values()].reduce((a, b) => a + b, 0),
      counters.acked,
    );
    await assertStored(provisioned.token, acked, 3);
  });
}

test('telly simulate provisions, runs and reports', async (t) => {
  const lines: string[] = [];
  t.mock.method(console, 'log', (line: string) => lines.push(line));
  await simulateCommand([
    `--api=${platform.apiUrl}`,
    `--email=cli-${Date.now()}@example.com`,
    '--password=correct horse battery staple',
    '--devices=3',
    '--protocol=http',
    `--http=http://127.0.0.1:${platform.ports.http}`,
    '--rate=5',
    '--duration=1s',
  ]);
  const output = lines.join('\n');
  assert.match(output, /3 things connected/);
  const acked = Number(/acked (\d+), errors 0/.exec(output)?.[1]);
  assert.ok(acked >= 3 * 4, output);
});
