import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { DEFAULT_MAX_PAYLOAD_BYTES, RateLimiter } from '@telly/bridge-core';
import {
  type BridgeTestStack,
  type ProvisionedThing,
  selfSignedCertificate,
  startBridgeTestStack,
} from '@telly/bridge-core/testing';
import { messageSubject, STREAMS } from '@telly/schemas';
import { DEFAULT_KEEP_ALIVE_TIMEOUT_MS } from './app.ts';
import type { Problem } from './problem.ts';
import { startTestBridge, type TestBridge } from './testing/bridge.ts';
import { CURL, type CurlResponse, curl, parseResponse, post } from './testing/curl.ts';

let stack: BridgeTestStack;
let bridge: TestBridge;
let jsm: JetStreamManager;
let dir: string;
let tenantId: string;
let channelId: string;
let thing: ProvisionedThing;

before(async () => {
  stack = await startBridgeTestStack();
  bridge = await startTestBridge(stack);
  jsm = await jetstreamManager(stack.nc);
  dir = await mkdtemp(join(tmpdir(), 'telly-http-'));
  ({ tenantId, channelId } = await stack.tenant());
  thing = await stack.thing(tenantId, [channelId]);
});
after(async () => {
  await bridge?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const SENML_JSON =
  '[{"bn":"urn:dev:esp1:","bt":1700000000,"n":"temp","u":"Cel","v":21.5},{"n":"hum","u":"%RH","v":40}]';

/** `[{bn: "urn:dev:cbor:", n: "temp", u: "Cel", v: 21.5}]` with the integer labels of RFC 8428 §6. */
function senmlCborPack(): Buffer {
  const text = (s: string) => Buffer.concat([Buffer.from([0x60 + Buffer.byteLength(s)]), Buffer.from(s)]);
  const double = Buffer.alloc(9);
  double[0] = 0xfb;
  double.writeDoubleBE(21.5, 1);
  // array(1), map(4); keys: -2 (bn) = 0x21, 0 (n), 1 (u), 2 (v)
  return Buffer.concat([
    Buffer.from([0x81, 0xa4, 0x21]),
    text('urn:dev:cbor:'),
    Buffer.from([0x00]),
    text('temp'),
    Buffer.from([0x01]),
    text('Cel'),
    Buffer.from([0x02]),
    double,
  ]);
}

const messagesUrl = (channel: string, subtopic = '') =>
  `${bridge.url}/channels/${channel}/messages${subtopic ? `/${subtopic}` : ''}`;

function accepted(res: CurlResponse): { id: string; seq: number } {
  assert.equal(res.status, 202, res.body);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  const body = res.json<{ id: string; seq: number }>();
  assert.deepEqual(Object.keys(body).sort(), ['id', 'seq']);
  assert.equal(typeof body.id, 'string');
  assert.ok(Number.isInteger(body.seq) && body.seq > 0);
  return body;
}

function refused(res: CurlResponse, status: number, reason: string): Problem {
  assert.equal(res.status, status, res.body);
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  const problem = res.json<Problem>();
  assert.equal(problem.type, 'about:blank');
  assert.equal(problem.status, status);
  assert.equal(problem.reason, reason);
  assert.equal(typeof problem.title, 'string');
  assert.equal(typeof problem.detail, 'string');
  return problem;
}

const stored = (seq: number) => jsm.streams.getMessage(STREAMS.MESSAGES.name, { seq });
const countOn = async (subject: string) => {
  const info = await jsm.streams.info(STREAMS.MESSAGES.name, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
};

test('SenML JSON with a subtopic: 202 {id, seq} and the resolved pack is in MESSAGES on the subtopic subject', async () => {
  const res = await post(messagesUrl(channelId, 'soil/north'), {
    key: thing.key,
    contentType: 'application/senml+json',
    body: SENML_JSON,
  });
  const { id, seq } = accepted(res);
  const message = await stored(seq);
  assert.equal(
    message?.subject,
    messageSubject({
      tenant: tenantId,
      channel: channelId,
      thing: thing.thingId,
      subtopic: ['soil', 'north'],
    }),
  );
  assert.equal(message?.header.get('Content-Type'), 'application/senml+json');
  assert.equal(message?.header.get('Telly-Protocol'), 'http');
  assert.equal(message?.header.get('Telly-Message-Id'), id);
  assert.deepEqual(
    message?.json<{ n: string; u: string; v: number; t: number }[]>().map((r) => [r.n, r.u, r.v, r.t]),
    [
      ['urn:dev:esp1:temp', 'Cel', 21.5, 1700000000],
      ['urn:dev:esp1:hum', '%RH', 40, 1700000000],
    ],
  );
});

test('SenML CBOR under the Mainflux /http prefix, with the bare key as Mainflux clients send it', async () => {
  const file = join(dir, 'pack.cbor');
  await writeFile(file, senmlCborPack());
  const before = Date.now() / 1000;
  const res = await post(`${bridge.url}/http/channels/${channelId}/messages`, {
    auth: thing.key,
    contentType: 'application/senml+cbor',
    body: `@${file}`,
  });
  const { seq } = accepted(res);
  const message = await stored(seq);
  assert.equal(
    message?.subject,
    messageSubject({ tenant: tenantId, channel: channelId, thing: thing.thingId }),
  );
  assert.equal(message?.header.get('Content-Type'), 'application/senml+json');
  const [record, ...rest] = message?.json<{ n: string; u: string; v: number; t: number }[]>() ?? [];
  assert.deepEqual(rest, []);
  assert.equal(record?.n, 'urn:dev:cbor:temp');
  assert.equal(record?.u, 'Cel');
  assert.equal(record?.v, 21.5);
  // no time in the pack: resolved to when the bridge received it
  assert.ok(record && record.t >= Math.floor(before) && record.t <= Date.now() / 1000 + 1);
});

test('plain JSON is stored as received, with its content type', async () => {
  const res = await post(messagesUrl(channelId), {
    key: thing.key,
    contentType: 'application/json',
    body: '{"temp": 21.5}',
  });
  const message = await stored(accepted(res).seq);
  assert.equal(message?.header.get('Content-Type'), 'application/json');
  assert.equal(message?.string(), '{"temp": 21.5}');
});

test('a retry with the same Idempotency-Key answers the same id and seq and is stored once', async () => {
  const subtopic = `retry-${Date.now()}`;
  const send = () =>
    post(messagesUrl(channelId, subtopic), {
      key: thing.key,
      contentType: 'application/senml+json',
      body: SENML_JSON,
      headers: ['Idempotency-Key: device-42:msg-7'],
    });
  const first = await send();
  const again = await send();
  assert.deepEqual(accepted(again), accepted(first));
  assert.equal(accepted(first).id, 'device-42:msg-7');
  assert.equal(first.headers['idempotent-replayed'], undefined);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal(
    await countOn(
      messageSubject({ tenant: tenantId, channel: channelId, thing: thing.thingId, subtopic: [subtopic] }),
    ),
    1,
  );

  const bad = await post(messagesUrl(channelId), {
    key: thing.key,
    contentType: 'application/json',
    body: '{"x":1}',
    headers: ['Idempotency-Key: has spaces in it'],
  });
  refused(bad, 400, 'invalid-idempotency-key');
});

test('authentication: a wrong, missing or Bearer key is 401 problem+json asking for the Thing scheme', async () => {
  const base = { contentType: 'application/senml+json', body: SENML_JSON };
  for (const res of [
    await post(messagesUrl(channelId), { ...base, key: 'not-a-key' }),
    await post(messagesUrl(channelId), base),
    await post(messagesUrl(channelId), { ...base, auth: `Bearer ${thing.key}` }),
  ]) {
    refused(res, 401, 'unauthenticated');
    assert.equal(res.headers['www-authenticate'], 'Thing');
  }
});

test('refusals: unconnected channel 403, malformed SenML 400 naming the record, unsupported type 415', async () => {
  const other = await stack.channel(tenantId);
  const forbidden = await post(messagesUrl(other), {
    key: thing.key,
    contentType: 'application/senml+json',
    body: SENML_JSON,
  });
  assert.match(refused(forbidden, 403, 'forbidden').detail, /not connected/);

  const malformed = await post(messagesUrl(channelId), {
    key: thing.key,
    contentType: 'application/senml+json',
    body: '[{"n":"a","v":1},{"n":"b","v":"warm"}]',
  });
  assert.match(refused(malformed, 400, 'invalid-payload').detail, /^record 1: /);

  const notJson = await post(messagesUrl(channelId), {
    key: thing.key,
    contentType: 'application/json',
    body: '{"temp": ',
  });
  refused(notJson, 400, 'invalid-payload');

  for (const contentType of [
    'text/plain',
    'application/xml',
    'application/json; charset=latin1',
    'text',
    undefined,
  ]) {
    const res = await post(messagesUrl(channelId), { key: thing.key, contentType, body: 'temp=21.5' });
    refused(res, 415, 'unsupported-content-type');
  }
});

// Only what every projection can store is acked; nothing refused reaches the log.
const lastSeq = async () => (await jsm.streams.info(STREAMS.MESSAGES.name)).state.last_seq;
const send = (contentType: string, body: string) =>
  post(messagesUrl(channelId), { key: thing.key, contentType, body });

test('what no projection can store is refused with 400, naming the record and the rule', async () => {
  const now = Date.now() / 1000;
  const cases: [string, string, RegExp][] = [
    [
      'application/senml+json',
      '[{"n":"ok","v":1},{"n":"ms","t":1796110000000,"v":1}]',
      /^record 1: t=1796110000000 is year 58886, after the accepted window .*: was this milliseconds\?$/,
    ],
    [
      'application/json',
      '{"t":1796110000000,"x":1}',
      /^record 0: t=1796110000000 is year 58886.*milliseconds\?$/,
    ],
    [
      'application/senml+json',
      '[{"n":"a","vs":"nul \\u0000 here"}]',
      /^record 0: "vs" holds a NUL character/,
    ],
    [
      'application/senml+json',
      `[{"n":"a","t":${now + 2 * 86_400},"v":1}]`,
      /^record 0: .*after the accepted window/,
    ],
    [
      'application/senml+json',
      '[{"n":"a","t":253402300800,"v":1}]',
      /^record 0: t=253402300800 is year 10000/,
    ],
    [
      'application/senml+json',
      '[{"n":"a","t":-62198755200,"v":1}]',
      /^record 0: .* before the accepted window/,
    ],
    ['application/senml+json', '[{"n":"a","v":1e300}]', /^record 0: "v" 1e\+300 is out of range/],
    // a negative relative time before 1970: refused, not stored decades off
    [
      'application/senml+json',
      `[{"n":"a","t":${-now - 2_208_988_800},"v":1}]`,
      /^record 0: .* before the accepted window/,
    ],
  ];
  const before = await lastSeq();
  for (const [contentType, body, detail] of cases) {
    assert.match(refused(await send(contentType, body), 400, 'invalid-payload').detail, detail, body);
  }
  assert.equal(await lastSeq(), before, 'nothing refused reached the log');
});

test('one message spans at most two calendar months: the 24-partition pack is refused', async () => {
  const records = Array.from({ length: 24 }, (_, i) => ({ n: 'a', t: Date.UTC(2024, i, 1) / 1000, v: i }));
  const res = await send('application/senml+json', JSON.stringify(records));
  assert.match(
    refused(res, 400, 'invalid-payload').detail,
    /^record 2: .*3 calendar months, more than the 2 accepted/,
  );
  const twoMonths = await send('application/senml+json', JSON.stringify(records.slice(0, 2)));
  assert.equal(twoMonths.status, 202, twoMonths.body);
});

test("ThingsBoard's {ts, values} and arrays of them are accepted with their time", async () => {
  const ts = Date.UTC(2026, 0, 15, 12);
  const one = await send('application/json', JSON.stringify({ ts, values: { temperature: 21.5 } }));
  assert.equal(one.status, 202, one.body);
  const many = await send(
    'application/json',
    JSON.stringify([
      { ts, values: { temperature: 21.5 } },
      { ts: ts + 1_000, values: { temperature: 21.6, door: true } },
    ]),
  );
  assert.equal(many.status, 202, many.body);
  const seconds = await send(
    'application/json',
    JSON.stringify({ ts: ts / 1000, values: { temperature: 1 } }),
  );
  assert.match(refused(seconds, 400, 'invalid-payload').detail, /was this seconds\?/);
});

test('routes: a bad subtopic level or an unknown path is 404 problem+json', async () => {
  const dot = await post(messagesUrl(channelId, 'a.b'), {
    key: thing.key,
    contentType: 'application/json',
    body: '{}',
  });
  assert.match(refused(dot, 404, 'invalid-topic').detail, /subtopic\[0\]/);
  const space = await post(messagesUrl(channelId, 'a/b%20c'), {
    key: thing.key,
    contentType: 'application/json',
    body: '{}',
  });
  assert.match(refused(space, 404, 'invalid-topic').detail, /subtopic\[1\].*whitespace/);
  refused(await curl([`${bridge.url}/nowhere`]), 404, 'not-found');
  refused(await curl([messagesUrl(channelId)]), 404, 'not-found');
});

test('oversize bodies are 413, with or without a Content-Length, and counted', async () => {
  const file = join(dir, 'big.json');
  await writeFile(file, `{"blob":"${'x'.repeat(DEFAULT_MAX_PAYLOAD_BYTES)}"}`);
  const declared = await post(messagesUrl(channelId), {
    key: thing.key,
    contentType: 'application/json',
    body: `@${file}`,
  });
  assert.match(
    refused(declared, 413, 'payload-too-large').detail,
    new RegExp(`${DEFAULT_MAX_PAYLOAD_BYTES}`),
  );
  const chunked = await post(messagesUrl(channelId), {
    key: thing.key,
    contentType: 'application/json',
    body: `@${file}`,
    headers: ['Transfer-Encoding: chunked'],
  });
  refused(chunked, 413, 'payload-too-large');
  const metrics = await bridge.metrics.getSingleMetricAsString('telly_bridge_messages_total');
  assert.match(metrics, /outcome="rejected",reason="payload-too-large"[^\n]* 2$/m);
});

test('a rate-limited thing gets 429 with Retry-After', async () => {
  const limited = await startTestBridge(stack, { rateLimiter: new RateLimiter(1, 2) });
  try {
    const send = () =>
      post(`${limited.url}/channels/${channelId}/messages`, {
        key: thing.key,
        contentType: 'application/json',
        body: '{"temp": 1}',
      });
    accepted(await send());
    accepted(await send());
    const res = await send();
    refused(res, 429, 'rate-limited');
    assert.equal(res.headers['retry-after'], '1');
  } finally {
    await limited.close();
  }
});

test("a deleted thing's key is refused within a second", async () => {
  const doomed = await stack.thing(tenantId, [channelId]);
  const send = () =>
    post(messagesUrl(channelId), { key: doomed.key, contentType: 'application/json', body: '{"temp": 2}' });
  accepted(await send());
  const start = performance.now();
  await stack.change(doomed, 'delete');
  let res = await send();
  while (res.status !== 401 && performance.now() - start < 5_000) res = await send();
  const elapsed = performance.now() - start;
  refused(res, 401, 'unauthenticated');
  assert.ok(elapsed < 1_000, `refused after ${Math.round(elapsed)} ms`);
});

test('/healthz and /metrics, over one keep-alive connection', async () => {
  const health = await curl([`${bridge.url}/healthz`]);
  assert.equal(health.status, 200, health.body);
  const report = health.json<{ status: string; checks: Record<string, { status: string }> }>();
  assert.equal(report.status, 'up');
  assert.deepEqual(Object.keys(report.checks).sort(), ['credentials', 'nats']);
  const metrics = await curl([`${bridge.url}/metrics`]);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers['content-type'] ?? '', /^text\/plain/);
  assert.match(metrics.body, /telly_bridge_messages_total\{[^}]*protocol="http"[^}]*outcome="accepted"/);
  assert.match(metrics.body, /telly_bridge_ack_seconds_bucket/);

  // two requests in one curl run: the second reuses the connection (0 new connects)
  const { stdout } = await promisify(execFile)(CURL, [
    '-sS',
    '-o',
    '/dev/null',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}:%{num_connects}\n',
    `${bridge.url}/healthz`,
    `${bridge.url}/metrics`,
  ]);
  assert.equal(stdout, '200:1\n200:0\n');
  assert.equal(bridge.app.server.keepAliveTimeout, DEFAULT_KEEP_ALIVE_TIMEOUT_MS);
});

test('HTTPS with TELLY_HTTP_TLS_* style certificate files', async () => {
  const { certFile, keyFile } = await selfSignedCertificate(dir);
  const secure = await startTestBridge(stack, {
    tls: { cert: await readFile(certFile), key: await readFile(keyFile) },
  });
  try {
    const port = new URL(secure.url).port;
    const res = await curl([
      '--cacert',
      certFile,
      '--resolve',
      `localhost:${port}:127.0.0.1`,
      '-X',
      'POST',
      `${secure.url}/channels/${channelId}/messages`,
      '-H',
      `Authorization: Thing ${thing.key}`,
      '-H',
      'Content-Type: application/senml+json',
      '--data-binary',
      SENML_JSON,
    ]);
    const message = await stored(accepted(res).seq);
    assert.equal(
      message?.subject,
      messageSubject({ tenant: tenantId, channel: channelId, thing: thing.thingId }),
    );
  } finally {
    await secure.close();
  }
});

test('closing drains: an upload in flight is acked and stored; the next request on its connection gets 503', async () => {
  const draining = await startTestBridge(stack);
  const file = join(dir, 'slow.json');
  const [first, second] = [join(dir, 'first.http'), join(dir, 'second.http')];
  await writeFile(file, `{"note":"${'y'.repeat(40_000)}"}`);
  const started = performance.now();
  // ~40 kB at 20 kB/s: mid-upload when the bridge is told to close; then one more request on the
  // same keep-alive connection (`--next`), which arrives while the bridge drains
  const run = promisify(execFile)(CURL, [
    ...['-sS', '-i', '-o', first, '-w', '%{http_code} %{num_connects}\n', '--limit-rate', '20K'],
    ...['-H', `Authorization: Thing ${thing.key}`, '-H', 'Content-Type: application/json'],
    ...['-H', 'Idempotency-Key: slow-upload', '--data-binary', `@${file}`],
    `${draining.url}/channels/${channelId}/messages`,
    '--next',
    ...['-sS', '-i', '-o', second, '-w', '%{http_code} %{num_connects}\n', `${draining.url}/healthz`],
  ]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const closed = draining.close().then(() => performance.now());
  await new Promise((resolve) => setTimeout(resolve, 50));
  await assert.rejects(curl([`${draining.url}/healthz`]), (err: { code?: number }) => err.code === 7);

  assert.equal((await run).stdout, '202 1\n503 0\n');
  const { seq } = accepted(parseResponse(await readFile(first, 'utf8')));
  assert.equal((await stored(seq))?.header.get('Telly-Message-Id'), 'slow-upload');
  const late = parseResponse(await readFile(second, 'utf8'));
  refused(late, 503, 'unavailable');
  assert.equal(late.headers['retry-after'], '1');
  assert.equal(late.headers.connection, 'close');
  // the upload alone takes about 2 s: close() waited for it rather than cutting it off
  assert.ok((await closed) - started > 1_500, 'close() resolved only after the in-flight upload');
});
