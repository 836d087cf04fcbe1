import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from '@telly/harness';
import { keyHash, messageSubject, STREAMS } from '@telly/schemas';
import type { Ingest } from './ingest.ts';
import { isIngestError } from './ingest-error.ts';
import { type BridgeTestStack, startBridgeTestStack } from './testing/stack.ts';

let stack: BridgeTestStack;
let ingest: Ingest;
before(async () => {
  stack = await startBridgeTestStack();
  ingest = (await stack.ingest('http')).ingest;
});
after(() => stack?.stop());

const SENML = new TextEncoder().encode(
  '[{"bn":"urn:dev:esp1:","bt":1700000000,"n":"temp","u":"Cel","v":21.5},{"n":"hum","u":"%RH","v":40}]',
);
const rejectedWith = (reason: string) => (err: unknown) => isIngestError(err) && err.reason === reason;

test('an accepted message is in MESSAGES, resolved, with its headers; a retry with the same id is stored once', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const credential = await ingest.authenticate(thing.key);
  assert.equal(credential.thingId, thing.thingId);
  const message = {
    thing: credential,
    channelId,
    subtopic: ['soil'],
    contentType: 'application/senml+json',
    body: SENML,
    messageId: 'm-1',
  };
  const first = await ingest.publish(message);
  const again = await ingest.publish(message);
  assert.equal(again.seq, first.seq);
  assert.equal(again.duplicate, true);
  const jsm = await jetstreamManager(stack.nc);
  const stored = await jsm.streams.getMessage(STREAMS.MESSAGES.name, { seq: first.seq });
  assert.equal(
    stored?.subject,
    messageSubject({ tenant: tenantId, channel: channelId, thing: thing.thingId, subtopic: ['soil'] }),
  );
  assert.equal(stored?.header.get('Content-Type'), 'application/senml+json');
  assert.equal(stored?.header.get('Telly-Protocol'), 'http');
  assert.deepEqual(
    stored?.json<{ n: string; v: number; t: number }[]>().map((r) => [r.n, r.v, r.t]),
    [
      ['urn:dev:esp1:temp', 21.5, 1700000000],
      ['urn:dev:esp1:hum', 40, 1700000000],
    ],
  );
});

test('refusals: unknown key, unconnected channel, bad payload, unsupported type, disabled thing — each recorded', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const other = await stack.channel(tenantId);
  const thing = await stack.thing(tenantId, [channelId]);
  // the bridge's credentials cache follows the bucket: wait until it has the connection too
  const credential = await waitFor(
    async () => {
      const seen = await ingest.authenticate(thing.key);
      return seen.channels.includes(channelId) && seen;
    },
    { timeoutMs: 10_000, what: "the thing's connection in the credentials cache" },
  );
  await assert.rejects(ingest.authenticate('not-a-key'), rejectedWith('unauthenticated'));
  const base = {
    thing: credential,
    channelId,
    subtopic: [],
    contentType: 'application/senml+json',
    body: SENML,
  };
  await assert.rejects(ingest.publish({ ...base, channelId: other }), rejectedWith('forbidden'));
  await assert.rejects(
    ingest.publish({ ...base, body: new TextEncoder().encode('[{"n":"x","v":"warm"}]') }),
    (err) => rejectedWith('invalid-payload')(err) && /record 0/.test((err as Error).message),
  );
  await assert.rejects(
    ingest.publish({ ...base, contentType: 'text/plain' }),
    rejectedWith('unsupported-content-type'),
  );
  await waitFor(async () => (await stack.rejections(thing)) >= 3, {
    timeoutMs: 5_000,
    what: 'three rejected events',
  });

  await stack.change(thing, 'disable');
  await waitFor(
    async () => {
      try {
        await ingest.authenticate(thing.key);
        return false;
      } catch (err) {
        return rejectedWith('thing-disabled')(err);
      }
    },
    { timeoutMs: 1_000, what: 'disabled within a second' },
  );
});

test('a credential held from before the thing was connected: the bucket is read again, not the device refused', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const other = await stack.channel(tenantId);
  const thing = await stack.thing(tenantId, [channelId]);
  const latest = await ingest.authenticate(thing.key);
  // what a bridge holds when it authenticated the device between the thing's create and connect
  const before = { ...latest, channels: [] };
  const base = { channelId, subtopic: [], contentType: 'application/senml+json', body: SENML };
  await assert.rejects(
    ingest.publish({ ...base, thing: before }),
    rejectedWith('forbidden'),
    'no key: no re-read',
  );
  const accepted = await ingest.publish({ ...base, thing: before, keyHash: keyHash(thing.key) });
  assert.equal(accepted.duplicate, false);
  await assert.rejects(
    ingest.publish({ ...base, channelId: other, thing: before, keyHash: keyHash(thing.key) }),
    rejectedWith('forbidden'),
    'a channel the bucket does not connect either is still refused',
  );
});
