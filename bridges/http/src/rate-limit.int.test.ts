import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import {
  type BridgeTestStack,
  type ProvisionedThing,
  startBridgeTestStack,
} from '@telly/bridge-core/testing';
import { waitFor } from '@telly/harness';
import { keyHash, type ThingRateLimit } from '@telly/schemas';
import { startTestBridge, type TestBridge } from './testing/bridge.ts';
import { CURL } from './testing/curl.ts';

// A bridge with the deployment's default limit (100/s, burst 200): a thing given its own limit
// through the registry (as `setThingRateLimit` does) sends what the default refuses.

let stack: BridgeTestStack;
let bridge: TestBridge;
let tenantId: string;
let channelId: string;

before(async () => {
  stack = await startBridgeTestStack();
  bridge = await startTestBridge(stack);
  ({ tenantId, channelId } = await stack.tenant());
});
after(async () => {
  await bridge?.close();
  await stack?.stop();
});

const BURST_OF = 1000;

/**
 * Posts `count` messages of the thing at once (one curl, 50 in parallel); the status codes
 * counted, and how long it took.
 */
async function burst(
  thing: ProvisionedThing,
  count = BURST_OF,
): Promise<{ codes: Map<number, number>; ms: number }> {
  const url = `${bridge.url}/channels/${channelId}/messages`;
  const config = [
    '-X POST',
    `-H "Authorization: Thing ${thing.key}"`,
    '-H "Content-Type: application/json"',
    `--data-binary "{\\"temp\\": 1}"`,
    ...Array.from({ length: count }, () => `url = "${url}"\noutput = "/dev/null"`),
  ].join('\n');
  const started = Date.now();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      CURL,
      ['-sS', '--parallel', '--parallel-max', '50', '-w', '%{http_code}\\n', '-K', '-'],
      { maxBuffer: 16 * 1024 * 1024 },
      (err, out, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve(out)),
    );
    child.stdin?.end(config);
  });
  const ms = Date.now() - started;
  const codes = new Map<number, number>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    codes.set(Number(line), (codes.get(Number(line)) ?? 0) + 1);
  }
  assert.equal(
    [...codes.values()].reduce((a, b) => a + b, 0),
    count,
  );
  return { codes, ms };
}

/** Sets (or clears) the thing's own limit and waits until the bridge's cache holds it. */
async function setLimit(thing: ProvisionedThing, rateLimit: ThingRateLimit | null): Promise<void> {
  await stack.change(thing, { rateLimit });
  await waitFor(
    async () => {
      const seen = (await bridge.credentials.get(keyHash(thing.key)))?.rateLimit;
      return JSON.stringify(seen ?? null) === JSON.stringify(rateLimit);
    },
    { timeoutMs: 5_000, what: 'the bridge to see the rate limit' },
  );
}

test(`a thing allowed 1000/s sends ${BURST_OF} messages at once; the default refuses with 429`, async (t) => {
  const gateway = await stack.thing(tenantId, [channelId]);
  const plain = await stack.thing(tenantId, [channelId]);
  await setLimit(gateway, { perSecond: 1000, burst: 1000 });

  const raised = await burst(gateway);
  assert.deepEqual([...raised.codes], [[202, BURST_OF]], `raised: ${JSON.stringify([...raised.codes])}`);
  t.diagnostic(`${BURST_OF} messages of the raised thing in ${raised.ms} ms`);

  const byDefault = await burst(plain);
  assert.ok((byDefault.codes.get(429) ?? 0) > 0, `default: ${JSON.stringify([...byDefault.codes])}`);
  // the default bucket holds 200 and refills 100/s while the burst is under way
  assert.ok(
    (byDefault.codes.get(202) ?? 0) <= 200 + Math.ceil(byDefault.ms / 10) + 1,
    `default: ${JSON.stringify([...byDefault.codes])} in ${byDefault.ms} ms`,
  );
});

test("clearing a thing's own limit restores the default", async () => {
  const gateway = await stack.thing(tenantId, [channelId]);
  await setLimit(gateway, { perSecond: 1000, burst: 1000 });
  assert.equal((await burst(gateway, 300)).codes.get(202), 300);

  await setLimit(gateway, null);
  const after = await burst(gateway);
  assert.ok((after.codes.get(429) ?? 0) > 0, `cleared: ${JSON.stringify([...after.codes])}`);
  assert.ok((after.codes.get(202) ?? 0) <= 200 + Math.ceil(after.ms / 10) + 1);
});
