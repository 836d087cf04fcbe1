// Interop: libcoap's coap-client publishing to the bridge, every format, every refusal, Block1,
// and a raw retransmitted CON answered alike and stored once.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BridgeTestStack, startBridgeTestStack } from '@telly/bridge-core/testing';
import { waitFor } from '@telly/harness';
import { startTestBridge, type TestCoapBridge } from './testing/bridge.ts';
import { coapClient, coapPost } from './testing/coap-client.ts';
import { storedMessages } from './testing/log.ts';
import { conPost, RawCoap } from './testing/raw-coap.ts';

let stack: BridgeTestStack;
let bridge: TestCoapBridge;
let dir: string;
before(async () => {
  stack = await startBridgeTestStack();
  bridge = await startTestBridge(stack);
  dir = await mkdtemp(join(tmpdir(), 'telly-coap-'));
});
after(async () => {
  await bridge?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const uri = (path: string, key: string) => `coap://127.0.0.1:${bridge.port}${path}?auth=${key}`;
/** The response code libcoap logs for a non-2.xx answer, with its diagnostic payload. */
const refusal = (stderr: string) => stderr.trim().split('\n').at(-1) ?? '';
// SenML CBOR (RFC 8428 §6): [{0: "temp", 2: 21.5}] — n is label 0, v label 2
const SENML_CBOR = Buffer.from([0x81, 0xa2, 0x00, 0x64, 0x74, 0x65, 0x6d, 0x70, 0x02, 0xf9, 0x4d, 0x60]);

test('CON and NON posts of SenML JSON, SenML CBOR and plain JSON are stored, a CON answered 2.04 after the ack', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const cbor = join(dir, 'pack.cbor');
  await writeFile(cbor, SENML_CBOR);
  const path = `/channels/${channelId}/messages`;
  const sends = [
    { body: { text: '[{"n":"temp","u":"Cel","v":21.5}]' }, format: 110, sub: 'senml-json' },
    { body: { file: cbor }, format: 112, sub: 'senml-cbor' },
    { body: { file: cbor }, format: 60, sub: 'cbor' },
    { body: { text: '{"humidity": 40}' }, format: 50, sub: 'json' },
    { body: { text: '{"humidity": 41}' }, format: undefined, sub: 'sniffed' },
  ];
  for (const non of [false, true]) {
    for (const { body, format, sub } of sends) {
      const res = await coapPost(uri(`${path}/${sub}`, thing.key), body, {
        ...(format === undefined ? {} : { format }),
        non,
      });
      assert.equal(res.stderr, '', `${sub} ${non ? 'NON' : 'CON'}: ${res.stderr}`);
      const answer = JSON.parse(res.stdout) as { id: string; seq: number };
      assert.ok(answer.seq > 0 && answer.id.startsWith('coap:'), res.stdout);
    }
  }
  const stored = await storedMessages(stack.nc, tenantId, thing.thingId);
  assert.equal(stored.length, 10);
  const bySub = (sub: string) => stored.filter((m) => m.subject.endsWith(`.${sub}`));
  const [record] = JSON.parse(bySub('senml-cbor')[0]?.body ?? '[]') as { n: string; v: number }[];
  assert.deepEqual([record?.n, record?.v], ['temp', 21.5]);
  assert.equal(bySub('senml-json')[0]?.contentType, 'application/senml+json');
  assert.equal(bySub('cbor')[0]?.contentType, 'application/senml+json', 'CBOR is stored resolved, as JSON');
  assert.equal(bySub('json')[0]?.contentType, 'application/json');
  assert.equal(bySub('json')[0]?.body, '{"humidity": 40}');
  assert.equal(bySub('sniffed')[0]?.contentType, 'application/json');
  assert.ok(stored.every((m) => m.protocol === 'coap'));
  assert.match(
    await bridge.metrics.getSingleMetricAsString('telly_coap_requests_total'),
    /method="POST",type="NON",code="2.04"[^\n]* 5$/m,
  );
});

test('refusals: wrong key 4.01, unconnected channel or disabled thing 4.03, bad SenML 4.00 naming the record, oversize 4.13, unsupported format 4.15; nothing stored', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const other = await stack.channel(tenantId);
  const thing = await stack.thing(tenantId, [channelId]);
  const path = `/channels/${channelId}/messages`;
  const huge = join(dir, 'huge.json');
  await writeFile(huge, `[${Array.from({ length: 12_000 }, (_, i) => `{"n":"v${i}","v":${i}}`).join(',')}]`);

  const wrongKey = await coapPost(uri(path, 'not-a-key'), { text: '[{"n":"t","v":1}]' }, { format: 110 });
  assert.equal(refusal(wrongKey.stderr), '4.01 unknown thing key');
  const noKey = await coapPost(`coap://127.0.0.1:${bridge.port}${path}`, { text: '[{"n":"t","v":1}]' });
  assert.equal(refusal(noKey.stderr), '4.01 send the thing key as ?auth=<key>');
  const unconnected = await coapPost(uri(`/channels/${other}/messages`, thing.key), {
    text: '[{"n":"t","v":1}]',
  });
  assert.match(refusal(unconnected.stderr), /^4\.03 thing \S+ is not connected to channel /);
  const malformed = await coapPost(
    uri(path, thing.key),
    { text: '[{"n":"a","v":1},{"v":"x"}]' },
    { format: 110 },
  );
  assert.match(refusal(malformed.stderr), /^4\.00 record 1: /);
  const oversize = await coapPost(uri(path, thing.key), { file: huge }, { format: 110, block: 1024 });
  assert.match(refusal(oversize.stderr), /^4\.13 the upload reached \d+ bytes, at most 262144 allowed/);
  const format = await coapPost(uri(path, thing.key), { text: 'hello' }, { format: 0 });
  assert.match(refusal(format.stderr), /^4\.15 Content-Format text\/plain is not one of 110/);
  const route = await coapPost(uri('/channels/x.y/messages', thing.key), { text: '{"a":1}' });
  assert.match(refusal(route.stderr), /^4\.04 /);
  const disabled = await stack.thing(tenantId, [channelId]);
  await stack.change(disabled, 'disable');
  const off = await coapPost(uri(path, disabled.key), { text: '{"a":1}' });
  assert.equal(refusal(off.stderr), '4.03 the thing is disabled');

  assert.deepEqual(await storedMessages(stack.nc, tenantId, thing.thingId), []);
  // recorded where the thing is known: unconnected, malformed, oversize, unsupported
  await waitFor(async () => (await stack.rejections(thing)) >= 4, {
    timeoutMs: 5_000,
    what: 'four rejections',
  });
});

test('a Block1 upload whose every block has a new token (coap-client) is stored whole, once; a wrong key is refused at block 0', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const pack = join(dir, 'pack.json');
  const records = Array.from({ length: 300 }, (_, i) => ({ n: `v${i}`, v: i }));
  await writeFile(pack, JSON.stringify(records));
  const res = await coapPost(
    uri(`/channels/${channelId}/messages`, thing.key),
    { file: pack },
    { format: 110, block: 64 },
  );
  assert.equal(res.stderr, '');
  assert.ok((JSON.parse(res.stdout) as { seq: number }).seq > 0);
  const stored = await storedMessages(stack.nc, tenantId, thing.thingId);
  assert.equal(stored.length, 1);
  assert.deepEqual(
    (JSON.parse(stored[0]?.body ?? '[]') as { n: string; v: number }[]).map(({ n, v }) => ({ n, v })),
    records,
  );
  // a stranger's upload is refused at its first block: nothing is buffered for it
  const held = async () =>
    Number(/ (\d+)$/m.exec(await bridge.metrics.getSingleMetricAsString('telly_coap_block1_uploads'))?.[1]);
  const before = await held();
  const stranger = await coapPost(
    uri(`/channels/${channelId}/messages`, 'not-a-key'),
    { file: pack },
    { format: 110, block: 64 },
  );
  assert.equal(refusal(stranger.stderr), '4.01 unknown thing key');
  assert.equal(await held(), before, 'no upload held for it');
});

test('a retransmitted CON (same message id and token) gets the same answer and is stored once', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const raw = await RawCoap.open(bridge.port);
  try {
    const datagram = conPost({
      messageId: 4711,
      token: 'c0ffee',
      path: ['channels', channelId, 'messages'],
      key: thing.key,
      payload: '[{"n":"temp","v":20}]',
    });
    // twice while the first is in flight, once after it was answered
    raw.send(datagram);
    raw.send(datagram);
    await waitFor(() => raw.answers.length >= 1, { timeoutMs: 5_000, what: 'the first answer' });
    raw.send(datagram);
    await waitFor(() => raw.answers.length >= 3, { timeoutMs: 5_000, what: 'three answers' });
    for (const p of raw.answers) {
      assert.equal(p.code, '2.04');
      assert.equal(p.ack, true);
      assert.equal(p.messageId, 4711);
      assert.equal(p.token.toString('hex'), 'c0ffee');
    }
    assert.equal(new Set(raw.answers.map((p) => p.payload.toString())).size, 1, 'the same answer each time');
    assert.equal((await storedMessages(stack.nc, tenantId, thing.thingId)).length, 1);
  } finally {
    raw.close();
  }
});

test('GET /healthz answers the status (only: a small answer to an unauthenticated datagram); metrics count coap messages', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  await coapPost(uri(`/channels/${channelId}/messages`, thing.key), { text: '{"temp": 1}' }, { format: 50 });
  const res = await coapClient(['-o', '-', `coap://127.0.0.1:${bridge.port}/healthz`]);
  assert.deepEqual(JSON.parse(res.stdout), { status: 'up' });
  assert.deepEqual(Object.keys((await bridge.health.report()).checks).sort(), ['credentials', 'nats']);
  assert.match(
    await bridge.metrics.getSingleMetricAsString('telly_bridge_messages_total'),
    /protocol="coap",outcome="accepted"/,
  );
});
