import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { chunkLines, InfluxRejectedError, InfluxUnavailableError, InfluxWriter } from './writer.ts';

/** A fake `/api/v2/write`: answers with the scripted statuses in turn (then 204), records bodies. */
let server: Server;
let url: string;
let script: number[] = [];
let requests: { path: string; auth: string | undefined; lines: string[] }[] = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      requests.push({
        path: req.url ?? '',
        auth: req.headers.authorization,
        lines: body.toString().split('\n'),
      });
      const status = script.shift() ?? 204;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 204 ? undefined : JSON.stringify({ code: 'x', message: `scripted ${status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function reset(statuses: number[] = []): void {
  script = statuses;
  requests = [];
}

const lines = (n: number, prefix = 'm') =>
  Array.from({ length: n }, (_, i) => `${prefix} value=${i} ${1_000 + i}`);

test('chunkLines bounds lines and bytes per request and keeps the order', () => {
  const all = lines(25);
  const byCount = chunkLines(all, 10, 1_000_000);
  assert.deepEqual(
    byCount.map((c) => c.length),
    [10, 10, 5],
  );
  assert.deepEqual(byCount.flat(), all);
  const byBytes = chunkLines(['a'.repeat(10), 'b'.repeat(10), 'c'.repeat(30)], 100, 25);
  assert.deepEqual(
    byBytes.map((c) => c.length),
    [2, 1],
  );
  assert.deepEqual(chunkLines([], 10, 10), []);
});

test('writes to /api/v2/write with org, bucket, ms precision and the token; in bounded requests', async () => {
  reset();
  const writer = new InfluxWriter({
    url,
    token: 't0k',
    org: 'acme corp',
    bucket: 'iot',
    maxLinesPerRequest: 400,
  });
  const all = lines(1_000);
  await writer.write(all);
  assert.deepEqual(
    requests.map((r) => r.lines.length),
    [400, 400, 200],
  );
  assert.deepEqual(
    requests.flatMap((r) => r.lines),
    all,
  );
  assert.equal(requests[0]?.path, '/api/v2/write?org=acme%20corp&bucket=iot&precision=ms');
  assert.equal(requests[0]?.auth, 'Token t0k');
  assert.equal(writer.health().status, 'up');
});

test('an unavailable sink is retried in place until it answers, and reported down meanwhile', async () => {
  reset([503, 500, 429]);
  const writer = new InfluxWriter({ url, org: 'o', bucket: 'b', minRetryDelayMs: 20, maxRetryDelayMs: 50 });
  let downSeen = false;
  const probe = setInterval(() => {
    downSeen ||= writer.health().status === 'down';
  }, 5);
  await writer.write(lines(3));
  clearInterval(probe);
  assert.equal(requests.length, 4, 'three failures, then the write that succeeded');
  assert.ok(requests.every((r) => r.lines.length === 3));
  assert.ok(downSeen);
  assert.equal(writer.health().status, 'up');
  assert.equal(requests[0]?.auth, undefined, 'no token, no Authorization header');
});

test('lines the sink refuses (400, 413, 422) fail at once with InfluxRejectedError', async () => {
  for (const status of [400, 413, 422]) {
    reset([status]);
    const writer = new InfluxWriter({ url, org: 'o', bucket: 'b', minRetryDelayMs: 10 });
    await assert.rejects(
      writer.write(lines(2)),
      (err: unknown) =>
        err instanceof InfluxRejectedError && err.statusCode === status && /scripted/.test(err.message),
    );
    assert.equal(requests.length, 1);
    assert.equal(writer.health().status, 'up', 'a refused write is the data, not the sink');
  }
});

test('abort ends the wait for a down sink; the client retries nothing behind our back', async () => {
  reset(Array(1_000).fill(503));
  const writer = new InfluxWriter({ url, org: 'o', bucket: 'b', minRetryDelayMs: 50, maxRetryDelayMs: 50 });
  const writing = writer.write(lines(5));
  await new Promise((resolve) => setTimeout(resolve, 180));
  writer.abort();
  await assert.rejects(writing, InfluxUnavailableError);
  const sent = requests.length;
  assert.ok(sent >= 2, `retried in place (${sent} requests)`);
  // while down and aborted, a new write does not even try
  await assert.rejects(writer.write(lines(1)), InfluxUnavailableError);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(requests.length, sent, 'no request after the write gave up: nothing was buffered');
  assert.equal(writer.health().status, 'down');
});

test('a refused connection is "unavailable" and, once aborted, rejects without waiting', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const writer = new InfluxWriter({
    url: `http://127.0.0.1:${port}`,
    org: 'o',
    bucket: 'b',
    minRetryDelayMs: 20,
  });
  const writing = writer.write(lines(1));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(writer.health().status, 'down');
  assert.match(JSON.stringify(writer.health().detail), /ECONNREFUSED/);
  const t0 = Date.now();
  writer.abort();
  await assert.rejects(writing, InfluxUnavailableError);
  assert.ok(Date.now() - t0 < 1_000);
});
