import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { waitFor } from '@telly/harness';
import { dlqSubject, messageFilters, messageSubject } from '@telly/schemas';
import { HealthChecks } from '../health.ts';
import { createMetricsRegistry } from '../metrics.ts';
import { type RuntimeTestStack, startRuntimeTestStack } from '../testing/stack.ts';
import { DLQ_HEADERS } from './dead-letter.ts';
import { DeadLetterQueue, isDeadLetterError, REDRIVE_HEADERS } from './dead-letter-queue.ts';
import { defineProcessor } from './define.ts';
import { PermanentError } from './errors.ts';
import { runProcessor } from './run.ts';

let stack: RuntimeTestStack;
let queue: DeadLetterQueue;
const health = new HealthChecks();
const metrics = createMetricsRegistry('dlq-test');
/** What each processor handled: the body of each message. */
const handled = { picky: [] as string[], other: [] as string[] };
let fixed = false;

const subject = messageSubject({ tenant: 'dlqt', channel: 'c', thing: 'th' });

before(async () => {
  stack = await startRuntimeTestStack({ name: 'dlq-test' });
  queue = new DeadLetterQueue(stack.nc);
  const filter = [...messageFilters({ tenant: 'dlqt' })];
  const picky = await runProcessor(
    defineProcessor({
      name: 'picky',
      stream: 'MESSAGES',
      filter,
      async handle(messages) {
        for (const m of messages) {
          const body = new TextDecoder().decode(m.data);
          if (body.includes('poison') && !fixed) throw new PermanentError(`cannot store ${body}`);
          handled.picky.push(body);
        }
      },
    }),
    { nc: stack.nc, logger: stack.logger, health, metrics },
  );
  const other = await runProcessor(
    defineProcessor({
      name: 'other',
      stream: 'MESSAGES',
      filter,
      async handle(messages) {
        for (const m of messages) handled.other.push(new TextDecoder().decode(m.data));
      },
    }),
    { nc: stack.nc, logger: stack.logger },
  );
  stack.onStop(() => other.stop());
  stack.onStop(() => picky.stop());
});
after(() => stack?.stop());

/** A DLQ entry written as the runtime writes one, from `stream`. */
async function craft(processor: string, stream: string, body: string): Promise<number> {
  const h = natsHeaders();
  h.set(DLQ_HEADERS.reason, 'crafted');
  h.set(DLQ_HEADERS.stream, stream);
  h.set(DLQ_HEADERS.subject, subject);
  h.set(DLQ_HEADERS.sequence, '7');
  h.set(DLQ_HEADERS.deliveries, '5');
  const ack = await jetstream(stack.nc).publish(dlqSubject(processor), body, { headers: h });
  return ack.seq;
}

test('a dead-lettered message is listed, shown, degrades health, and is redriven to its processor alone', async () => {
  const js = jetstream(stack.nc);
  const h = natsHeaders();
  h.set('Telly-Protocol', 'http');
  await js.publish(subject, 'poison-1', { headers: h, msgID: 'poison-1' });
  await js.publish(subject, 'good-1', { msgID: 'good-1' });
  const page = await waitFor(
    async () => {
      const p = await queue.list({ processor: 'picky' });
      return p.items.length > 0 && p;
    },
    { what: 'the poison message in dlq.picky' },
  );
  assert.equal(page.items.length, 1);
  assert.equal(page.hasNextPage, false);
  const [entry] = page.items;
  assert.ok(entry);
  assert.equal(entry.processor, 'picky');
  assert.equal(entry.stream, 'MESSAGES');
  assert.equal(entry.subject, subject);
  assert.equal(entry.reason, 'cannot store poison-1');
  assert.equal(entry.deliveries, 1, 'a PermanentError is dead-lettered at once');
  assert.deepEqual(entry.headers, { 'Telly-Protocol': ['http'] }, 'the original headers, nothing else');
  assert.equal(new TextDecoder().decode(entry.data), 'poison-1');
  assert.deepEqual((await queue.get(entry.seq)).reason, entry.reason);
  assert.deepEqual(await queue.depths(), { picky: 1 });

  const report = await health.report();
  assert.equal(report.status, 'degraded', JSON.stringify(report));
  assert.equal(report.checks['dlq:picky']?.status, 'degraded');
  assert.deepEqual((report.checks['dlq:picky']?.detail as { depth?: number } | undefined)?.depth, 1);
  assert.match(await metrics.metrics(), /telly_processor_dlq_messages\{processor="picky"[^}]*\} 1/);

  await waitFor(() => handled.other.includes('good-1'), { what: 'other handled good-1' });
  assert.deepEqual(handled.other, ['poison-1', 'good-1'], 'the other processor stored the poison message');

  fixed = true;
  const redriven = await queue.redrive(entry.seq);
  assert.equal(redriven.stream, 'MESSAGES');
  await waitFor(() => handled.picky.includes('poison-1'), { what: 'picky applied the redriven message' });
  // a message after the redriven one: once the other processor has it, it skipped the redrive
  await js.publish(subject, 'good-2', { msgID: 'good-2' });
  await waitFor(() => handled.other.includes('good-2') && handled.picky.includes('good-2'), {
    what: 'both handled good-2',
  });
  assert.deepEqual(
    handled.other,
    ['poison-1', 'good-1', 'good-2'],
    'the other processor skipped the redrive',
  );
  assert.deepEqual(handled.picky, ['good-1', 'poison-1', 'good-2']);
  const copy = await stack.jsm.streams.getMessage('MESSAGES', { seq: redriven.seq });
  assert.equal(copy?.header.get(REDRIVE_HEADERS.for), 'picky');
  assert.equal(copy?.header.get(REDRIVE_HEADERS.of), `MESSAGES:${entry.originalSeq}`);
  assert.equal(copy?.header.get('Telly-Protocol'), 'http');

  assert.deepEqual(await queue.depths(), {}, 'a redriven entry leaves the queue');
  await assert.rejects(queue.get(entry.seq), (err) => isDeadLetterError(err, 'NOT_FOUND'));
  await assert.rejects(queue.redrive(entry.seq), (err) => isDeadLetterError(err, 'NOT_FOUND'));
  const after = await health.report();
  assert.equal(after.checks['dlq:picky']?.status, 'up');
  assert.match(await metrics.metrics(), /telly_processor_dlq_messages\{processor="picky"[^}]*\} 0/);
});

test('entries are paged oldest first; registry and command entries are never republished; purge empties', async () => {
  const seqs = [
    await craft('pager', 'EVENTS', 'a'),
    await craft('pager', 'EVENTS', 'b'),
    await craft('pager', 'EVENTS', 'c'),
  ];
  const other = await craft('elsewhere', 'REGISTRY', 'r');
  const first = await queue.list({ processor: 'pager', first: 2 });
  assert.deepEqual(
    first.items.map((e) => e.seq),
    seqs.slice(0, 2),
  );
  assert.equal(first.hasNextPage, true);
  const rest = await queue.list({ processor: 'pager', first: 2, after: first.items.at(-1)?.seq });
  assert.deepEqual(
    rest.items.map((e) => e.seq),
    seqs.slice(2),
  );
  assert.equal(rest.hasNextPage, false);
  const all = await queue.list();
  assert.deepEqual(
    all.items.map((e) => e.seq),
    [...seqs, other],
  );
  assert.deepEqual(await queue.list({ processor: 'nobody' }), { items: [], hasNextPage: false });

  for (const stream of ['REGISTRY', 'COMMANDS']) {
    const seq = stream === 'REGISTRY' ? other : await craft('elsewhere', stream, 'c');
    await assert.rejects(
      queue.redrive(seq),
      (err) => isDeadLetterError(err, 'NOT_REDRIVABLE') && err.message.includes(stream),
    );
  }
  assert.equal(await queue.purge('pager'), 3);
  assert.deepEqual(await queue.depths(), { elsewhere: 2 });
  await queue.remove(other);
  assert.equal(await queue.purge(), 1);
  assert.deepEqual(await queue.depths(), {});
});
