// No loss: CON messages from coap-client while the bridge process is SIGKILLed and restarted;
// the clients retransmit (RFC 7252 §4.2), and the log holds every acknowledged message exactly once.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startBridgeTestStack } from '@telly/bridge-core/testing';
import { freePort, waitFor } from '@telly/harness';
import { coapPost } from './testing/coap-client.ts';
import { storedMessages } from './testing/log.ts';

const BRIDGE = fileURLToPath(new URL('./testing/bridge-process.ts', import.meta.url));
/** Messages sent, and how many are in flight at once. */
const N = Number(process.env.TELLY_COAP_NO_LOSS_N ?? 40);
const CONCURRENCY = 8;

async function startBridge(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BRIDGE], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await waitFor(() => out.includes('ready') || child.exitCode !== null, {
    timeoutMs: 20_000,
    what: 'the bridge process ready',
  });
  assert.ok(out.includes('ready'), `the bridge process exited ${child.exitCode}`);
  return child;
}

test('no loss: CON messages survive a SIGKILLed bridge, each acknowledged one stored exactly once', {
  timeout: 120_000,
}, async (t) => {
  const stack = await startBridgeTestStack();
  let bridge: ChildProcess | undefined;
  try {
    const { tenantId, channelId } = await stack.tenant();
    const thing = await stack.thing(tenantId, [channelId]);
    const port = await freePort();
    const env = {
      ...process.env,
      NATS_URL: stack.natsUrl,
      TELLY_COAP_PORT: String(port),
      TELLY_COAP_HOST: '127.0.0.1',
    };
    bridge = await startBridge(env);
    const uri = `coap://127.0.0.1:${port}/channels/${channelId}/messages?auth=${thing.key}`;

    const acknowledged = new Set<string>();
    const refused: string[] = [];
    const log: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < N) {
        const id = `m-${String(next++).padStart(4, '0')}`;
        const res = await coapPost(uri, { text: `[{"n":"id","vs":"${id}"}]` }, { format: 110 });
        // libcoap logs what it meets on the way (a refused datagram while the bridge is down) on stdout too
        const answer = /\{"id":"[^"]+","seq":\d+\}/.exec(res.stdout);
        if (answer) {
          acknowledged.add(id);
          if (res.stdout !== answer[0]) log.push(res.stdout.replace(answer[0], '').trim());
        } else refused.push(`${id}: ${res.stdout.trim()} ${res.stderr.trim()}`);
      }
    };
    const workers = Array.from({ length: CONCURRENCY }, worker);
    await waitFor(() => acknowledged.size >= N / 3, { timeoutMs: 60_000, what: 'a third acknowledged' });
    const killed = bridge;
    killed.kill('SIGKILL');
    await once(killed, 'exit');
    const atKill = acknowledged.size;
    bridge = await startBridge(env);
    await Promise.all(workers);
    t.diagnostic(
      `${acknowledged.size} of ${N} acknowledged (${atKill} before the kill); refused: ${refused.join('; ')}`,
    );
    t.diagnostic(`coap-client said: ${[...new Set(log)].slice(0, 5).join(' | ')}`);

    const stored = await storedMessages(stack.nc, tenantId, thing.thingId);
    const ids = stored.map((m) => (JSON.parse(m.body) as { vs: string }[])[0]?.vs ?? '');
    assert.equal(new Set(ids).size, ids.length, 'no message stored twice');
    const missing = [...acknowledged].filter((id) => !ids.includes(id));
    assert.deepEqual(missing, [], 'every acknowledged message is in the log');
    // the clients retransmitted through the outage: nothing was given up on
    assert.equal(acknowledged.size, N, refused.join('; '));
  } finally {
    bridge?.kill('SIGKILL');
    await stack.stop();
  }
});
