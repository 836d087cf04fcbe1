import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findInfluxd, Influxd } from './influxd.ts';

test('a failed influxd start fails fast and leaves nothing running', async () => {
  const startedAt = Date.now();
  await assert.rejects(Influxd.start({ bin: '/bin/false' }), /influxd exited/);
  assert.ok(Date.now() - startedAt < 5_000, `failed in ${Date.now() - startedAt} ms`);
});

const unavailable = (() => {
  try {
    return findInfluxd().unavailable;
  } catch {
    return undefined; // a failed build where it works: the test fails in Influxd.start
  }
})();

test(
  'influxd: onboarded with org, bucket and token; takes line protocol, answers Flux; stops without a trace',
  unavailable === undefined ? {} : { skip: unavailable },
  async () => {
    const influxd = await Influxd.start({ org: 'farm', bucket: 'readings' });
    const pid = influxd.process.pid!;
    try {
      const timeMs = Date.now() - 60_000;
      const write = await fetch(`${influxd.url}/api/v2/write?org=farm&bucket=readings&precision=ms`, {
        method: 'POST',
        headers: { authorization: `Token ${influxd.token}` },
        body: `telemetry,thing=t1 value=21.5 ${timeMs}`,
      });
      assert.equal(write.status, 204, await write.text());
      const anonymous = await fetch(`${influxd.url}/api/v2/write?org=farm&bucket=readings`, {
        method: 'POST',
        body: `telemetry,thing=t1 value=1 ${timeMs}`,
      });
      assert.equal(anonymous.status, 401, 'writes need the token');
      const query = await fetch(`${influxd.url}/api/v2/query?org=farm`, {
        method: 'POST',
        headers: {
          authorization: `Token ${influxd.token}`,
          'content-type': 'application/json',
          accept: 'application/csv',
        },
        body: JSON.stringify({
          type: 'flux',
          query:
            'from(bucket: "readings") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "telemetry") |> keep(columns: ["_time", "_value", "thing"])',
        }),
      });
      assert.equal(query.status, 200);
      const [header, ...rows] = (await query.text())
        .split(/\r?\n/)
        .filter((line) => line.trim() !== '')
        .map((line) => line.split(','));
      const col = (row: string[], name: string) => row[header!.indexOf(name)];
      assert.deepEqual(
        rows.map((r) => [col(r, 'thing'), Number(col(r, '_value')), Date.parse(col(r, '_time')!)]),
        [['t1', 21.5, timeMs]],
      );
    } finally {
      await influxd.stop();
    }
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  },
);
