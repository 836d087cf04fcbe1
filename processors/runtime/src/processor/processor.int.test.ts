import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsServer, startTestDatabase, type TestDatabase, waitFor } from '@telly/harness';
import { dlqSubject, messageFilters, messageSubject } from '@telly/schemas';
import pg from 'pg';
import { ensureTopology } from '../topology.ts';
import { DLQ_HEADERS } from './dead-letter.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/sum-processor.ts', import.meta.url));

let nats: NatsServer;
let db: TestDatabase;
let nc: NatsConnection;
let pool: pg.Pool;
const children = new Set<ChildProcess>();

before(async () => {
  [nats, db] = await Promise.all([NatsServer.start(), startTestDatabase()]);
  nc = await connect({ servers: nats.url });
  await ensureTopology(nc, await jetstreamManager(nc));
  pool = new pg.Pool({ connectionString: db.url });
  // an idle client whose backend the server ended (the test database going away) is not a
  // failure of any test; a query's error still rejects that query
  pool.on('error', () => {});
});
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await pool.end();
  await nc.close();
  await Promise.all([nats.stop(), db.stop()]);
});

function startProcessor(env: Record<string, string>): Promise<ChildProcess> {
  const child = fork(FIXTURE, [], {
    env: {
      ...process.env,
      NATS_URL: nats.url,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'warn',
      LOG_PRETTY: '0',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`processor exited early with ${code}`)));
  });
}

async function stopProcessor(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Publishes values 1..n on `msg.<tenant>.c.th` and returns their sum. */
async function publishValues(tenant: string, n: number): Promise<number> {
  const js = jetstream(nc);
  const acks = [];
  for (let i = 1; i <= n; i++) {
    acks.push(
      js.publish(messageSubject({ tenant, channel: 'c', thing: 'th' }), JSON.stringify({ v: i }), {
        msgID: `${tenant}:${i}`,
      }),
    );
  }
  await Promise.all(acks);
  return (n * (n + 1)) / 2;
}

async function totals(
  from: number,
): Promise<{ rows: number; distinct: number; sum: number; instances: number }> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS rows, count(DISTINCT seq)::int AS distinct, coalesce(sum(value), 0)::int AS sum,
            count(DISTINCT instance)::int AS instances
     FROM applied_values WHERE seq > $1`,
    [from],
  );
  return rows[0];
}

async function lastSeq(): Promise<number> {
  const info = await (await jetstreamManager(nc)).streams.info('MESSAGES');
  return info.state.last_seq;
}

test('a processor SIGKILLed mid-batch and restarted applies every message exactly once', async () => {
  const from = await lastSeq();
  const n = 3_000;
  const expectedSum = await publishValues('kill', n);
  const env = { PROCESSOR: 'sum_kill', SLOW_MS: '20' };
  const first = await startProcessor(env);
  await waitFor(async () => (await totals(from)).rows >= n / 4, { what: 'first quarter applied' });
  first.kill('SIGKILL'); // inside a transaction or between commit and ack, most likely
  await new Promise((resolve) => first.once('exit', resolve));
  const second = await startProcessor({ ...env, SLOW_MS: '0' });
  const done = await waitFor(
    async () => {
      const t = await totals(from);
      return t.rows >= n && t;
    },
    { timeoutMs: 60_000, what: 'all applied' },
  );
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // redeliveries, if any, would land now
  assert.deepEqual(await totals(from), { ...done, instances: 1 });
  assert.equal(done.rows, n);
  assert.equal(done.distinct, n);
  assert.equal(done.sum, expectedSum);
  await stopProcessor(second);
});

/**
 * Two instances of one processor over `n` values of `tenant`, published once both run (an
 * instance that came up seconds after the other could find the work done): every value applied
 * once, both instances took a share.
 */
async function twoInstancesShare(tenant: string, n: number, env: Record<string, string>): Promise<void> {
  const from = await lastSeq();
  const [a, b] = await Promise.all([
    startProcessor({ ...env, INSTANCE: 'a' }),
    startProcessor({ ...env, INSTANCE: 'b' }),
  ]);
  const expectedSum = await publishValues(tenant, n);
  const done = await waitFor(
    async () => {
      const t = await totals(from);
      return t.rows >= n && t;
    },
    { timeoutMs: 60_000, what: 'all applied' },
  );
  assert.equal(done.rows, n);
  assert.equal(done.distinct, n, 'nothing applied twice');
  assert.equal(done.sum, expectedSum);
  const { rows } = await pool.query(
    'SELECT instance, count(*)::int AS n FROM applied_values WHERE seq > $1 GROUP BY instance ORDER BY instance',
    [from],
  );
  assert.equal(rows.length, 2, `both instances worked: ${JSON.stringify(rows)}`);
  assert.ok(rows.every((r: { n: number }) => r.n > 0));
  await Promise.all([stopProcessor(a), stopProcessor(b)]);
}

test('two instances of one processor split the work and apply nothing twice', async () => {
  await twoInstancesShare('split', 4_000, {
    PROCESSOR: 'sum_split',
    SLOW_MS: '10',
    FILTER: messageFilters({ tenant: 'split' }).join(','),
  });
});

test('continuous: two instances share one consumer, each batch what has arrived, nothing applied twice', async () => {
  const env = {
    PROCESSOR: 'sum_continuous',
    CONTINUOUS: '1',
    SLOW_MS: '10',
    FILTER: messageFilters({ tenant: 'continuous' }).join(','),
  };
  await twoInstancesShare('continuous', 2_000, env);
});

test('poison messages land in the DLQ with their reason while the rest flow', async () => {
  const from = await lastSeq();
  const js = jetstream(nc);
  const published: number[] = [];
  for (let i = 1; i <= 100; i++) {
    const v = i === 30 ? 'poison' : i === 60 ? 'permanent' : i;
    await js.publish(messageSubject({ tenant: 'poison', channel: 'c', thing: 'th' }), JSON.stringify({ v }), {
      msgID: `poison:${i}`,
    });
    if (typeof v === 'number') published.push(v);
  }
  const child = await startProcessor({ PROCESSOR: 'sum_poison' });
  const done = await waitFor(
    async () => {
      const t = await totals(from);
      return t.rows >= published.length && t;
    },
    { timeoutMs: 60_000, what: 'healthy messages applied' },
  );
  assert.equal(
    done.sum,
    published.reduce((a, b) => a + b, 0),
  );
  const jsm = await jetstreamManager(nc);
  const dlq = await waitFor(
    async () => {
      const info = await jsm.streams.info('DLQ', { subjects_filter: dlqSubject('sum_poison') });
      return info.state.messages >= 2 && info;
    },
    { timeoutMs: 30_000, what: 'two DLQ entries' },
  );
  assert.equal(dlq.state.messages, 2);
  const stream = await js.streams.get('DLQ');
  const entries = [
    await stream.getMessage({ seq: dlq.state.first_seq }),
    await stream.getMessage({ seq: dlq.state.last_seq }),
  ];
  const reasons = entries.map((e) => e?.header.get(DLQ_HEADERS.reason)).sort();
  assert.match(reasons[0] ?? '', /poison message at seq \d+/);
  assert.match(reasons[1] ?? '', /value is not a number/);
  const poison = entries.find((e) => /poison/.test(e?.header.get(DLQ_HEADERS.reason) ?? ''));
  assert.equal(poison?.header.get(DLQ_HEADERS.deliveries), '3', 'retried maxDeliver times first');
  assert.equal(poison?.header.get(DLQ_HEADERS.subject), 'msg.poison.c.th');
  assert.deepEqual(JSON.parse(new TextDecoder().decode(poison?.data)), { v: 'poison' });
  await stopProcessor(child);
});

test('an entry the handler returns as a dead letter goes to the DLQ alone; its batch is applied once', async () => {
  const from = await lastSeq();
  const js = jetstream(nc);
  const published: number[] = [];
  let unstorableSeq = 0;
  for (let i = 1; i <= 100; i++) {
    const v = i === 40 ? 'unstorable' : i;
    const ack = await js.publish(
      messageSubject({ tenant: 'deadletters', channel: 'c', thing: 'th' }),
      JSON.stringify({ v }),
      { msgID: `deadletters:${i}` },
    );
    if (typeof v === 'number') published.push(v);
    else unstorableSeq = ack.seq;
  }
  const child = await startProcessor({
    PROCESSOR: 'sum_deadletters',
    FILTER: [...messageFilters({ tenant: 'deadletters' })].join(','),
  });
  const done = await waitFor(
    async () => {
      const t = await totals(from);
      return t.rows >= published.length && t;
    },
    { timeoutMs: 60_000, what: 'healthy messages applied' },
  );
  assert.equal(done.rows, published.length);
  assert.equal(done.distinct, published.length);
  assert.equal(
    done.sum,
    published.reduce((a, b) => a + b, 0),
  );
  // the batch was not taken apart: its neighbours were applied with it, in one transaction
  const { rows } = await pool.query('SELECT batch FROM applied_values WHERE seq = ANY($1::bigint[])', [
    [unstorableSeq - 1, unstorableSeq + 1],
  ]);
  assert.ok(rows.length === 2 && rows.every((r: { batch: number }) => r.batch > 1), JSON.stringify(rows));
  const jsm = await jetstreamManager(nc);
  const subject = dlqSubject('sum_deadletters');
  const count = async () =>
    (await jsm.streams.info('DLQ', { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
  await waitFor(async () => (await count()) >= 1, { timeoutMs: 30_000, what: 'the DLQ entry' });
  assert.equal(await count(), 1);
  const entry = await (await js.streams.get('DLQ')).getMessage({ last_by_subj: subject });
  assert.equal(entry?.header.get(DLQ_HEADERS.reason), `seq ${unstorableSeq} cannot be stored`);
  assert.equal(entry?.header.get(DLQ_HEADERS.sequence), String(unstorableSeq));
  assert.equal(entry?.header.get(DLQ_HEADERS.deliveries), '1');
  await stopProcessor(child);
});

test('ordered: a pinned instance killed with a batch in hand: the standby applies it first, then what came after', async () => {
  const from = await lastSeq();
  // the production ack wait: what a dead instance held must not wait for it behind newer messages
  const env = {
    PROCESSOR: 'sum_takeover',
    ORDERED: '1',
    HANDLE_MS: '150',
    ACK_WAIT_MS: '30000',
    FILTER: messageFilters({ tenant: 'takeover' }).join(','),
  };
  const a = await startProcessor({ ...env, INSTANCE: 'a' });
  const b = await startProcessor({ ...env, INSTANCE: 'b' });
  const js = jetstream(nc);
  let sent = 0;
  const send = async (n: number) => {
    // a trickle, as devices send: the active instance is caught up, a batch in hand at any time
    for (const end = sent + n; sent < end; ) {
      sent++;
      await js.publish(
        messageSubject({ tenant: 'takeover', channel: 'c', thing: 'th' }),
        JSON.stringify({ v: sent }),
        {
          msgID: `takeover:${sent}`,
        },
      );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await send(100);
  await waitFor(async () => (await totals(from)).rows >= 50, { what: 'the active instance at work' });
  const before = await pool.query<{ instance: string }>(
    'SELECT DISTINCT instance FROM applied_values WHERE seq > $1',
    [from],
  );
  assert.equal(before.rowCount, 1, 'one pinned instance did the work');
  const activeName = before.rows[0]!.instance;
  const [active, standby] = activeName === 'a' ? [a, b] : [b, a];
  active.kill('SIGKILL');
  await new Promise((resolve) => active.once('exit', resolve));
  await send(200);
  await waitFor(async () => (await totals(from)).distinct >= 300, {
    timeoutMs: 60_000,
    what: 'all 300 applied',
  });
  const { rows } = await pool.query<{ seq: number; instance: string }>(
    'SELECT seq::int, instance FROM applied_values WHERE seq > $1 ORDER BY id',
    [from],
  );
  const seqs = rows.map((r) => r.seq);
  assert.equal(new Set(seqs).size, seqs.length, 'nothing applied twice');
  assert.deepEqual(
    seqs,
    [...seqs].sort((x, y) => x - y),
    'in stream order across the takeover',
  );
  assert.ok(rows.at(-1)!.instance !== activeName, 'the standby applied the rest');
  await stopProcessor(standby);
});

test('ordered: one pinned instance applies in stream order, the standby takes over when it dies', async () => {
  const from = await lastSeq();
  const js = jetstream(nc);
  for (let i = 1; i <= 1_000; i++) {
    // a message that fails twice, then succeeds: order must hold across its retries
    const v = i === 500 ? 'flaky' : i;
    await js.publish(
      messageSubject({ tenant: 'ordered', channel: 'c', thing: 'th' }),
      JSON.stringify({ v }),
      { msgID: `ordered:${i}` },
    );
  }
  const env = {
    PROCESSOR: 'sum_ordered',
    ORDERED: '1',
    SLOW_MS: '5',
    FILTER: [...messageFilters({ tenant: 'ordered' }), ...messageFilters({ tenant: 'ordered2' })].join(','),
  };
  const a = await startProcessor({ ...env, INSTANCE: 'a' });
  const b = await startProcessor({ ...env, INSTANCE: 'b' });
  await waitFor(async () => (await totals(from)).rows >= 1_000, {
    timeoutMs: 60_000,
    what: 'first 1000 applied',
  });
  const order = async () =>
    (await pool.query('SELECT seq::int, instance FROM applied_values WHERE seq > $1 ORDER BY id', [from]))
      .rows as {
      seq: number;
      instance: string;
    }[];
  const firstRun = await order();
  const seqs = firstRun.map((r) => r.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((x, y) => x - y),
    'applied in stream order',
  );
  const workers = new Set(firstRun.map((r) => r.instance));
  assert.equal(workers.size, 1, 'one pinned instance did the work');
  const [active, standby] = workers.has('a') ? [a, b] : [b, a];
  active.kill('SIGKILL');
  await new Promise((resolve) => active.once('exit', resolve));
  await publishValues('ordered2', 200);
  await waitFor(async () => (await totals(from)).rows >= 1_200, {
    timeoutMs: 60_000,
    what: 'standby took over',
  });
  const all = await order();
  assert.equal(all.length, 1_200);
  assert.equal(new Set(all.map((r) => r.seq)).size, 1_200, 'nothing applied twice');
  const allSeqs = all.map((r) => r.seq);
  assert.deepEqual(
    allSeqs,
    [...allSeqs].sort((x, y) => x - y),
    'still in stream order after the takeover',
  );
  assert.ok(
    all.slice(1_000).every((r) => r.instance !== firstRun[0]!.instance),
    'the standby applied the rest',
  );
  await stopProcessor(standby);
});
