// The evaluator's memory of the series it committed, against a real Postgres: it saves reading
// what it holds, and is dropped whenever it could be wrong (another instance evaluated, a rule
// changed, a timer belongs to the series).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PgCheckpoint, type ProcessorMessage } from '@telly/runtime';
import { type RuntimeTestStack, startRuntimeTestStack } from '@telly/runtime/testing';
import { v7 } from 'uuid';
import type { Reading } from './domain/types.ts';
import { toRule, validateRule } from './domain/validate.ts';
import { type Candidate, type EvaluatorMemory, evaluateBatch, RULES_MESSAGES } from './evaluator.ts';
import { rulesMigrations } from './migrations.ts';
import { SeriesCache } from './series-store.ts';

let stack: RuntimeTestStack;
let checkpoint: PgCheckpoint;
let seq = 0;
const tenant = v7();
const thing = v7();
const channel = v7();
const T0 = 1_700_000_000_000;

before(async () => {
  stack = await startRuntimeTestStack({ name: 'series-cache-test', migrations: [rulesMigrations] });
  checkpoint = new PgCheckpoint(stack.pool, RULES_MESSAGES);
});

after(async () => {
  await stack?.stop();
});

const ruleOf = (condition: Parameters<typeof validateRule>[0]['condition']) =>
  toRule(v7(), tenant, true, validateRule({ name: 'r', thingId: thing, measurement: 'temp', condition }));

/** Rules held at a fixed version: the rule itself is passed with each candidate. */
const rulesAt = (version: string): EvaluatorMemory['rules'] => ({ at: async () => version });

/** One batch of one reading (the next stream sequence) through `memory`: the alert events' types. */
async function batch(memory: EvaluatorMemory, rule: ReturnType<typeof ruleOf>, s: number, value: number) {
  const reading: Reading = { thingId: thing, channelId: channel, name: 'temp', value, timeMs: T0 + s * 1000 };
  const message = { seq: ++seq } as ProcessorMessage;
  const candidates: Candidate[] = [{ rule, reading }];
  const events = await evaluateBatch(checkpoint, memory, [message], () => candidates);
  return events.map((e) => e.type);
}

test('held series are not read again; a commit by another instance drops them, so no alert is raised twice', async () => {
  const rule = ruleOf({ op: 'GT', value: 50 });
  const a: EvaluatorMemory = { series: new SeriesCache(), rules: rulesAt('v1') };
  const b: EvaluatorMemory = { series: new SeriesCache(), rules: rulesAt('v1') };
  assert.deepEqual(await batch(a, rule, 1, 20), []);
  assert.equal(a.series.size, 1, 'instance a holds the series it committed');

  // a takeover: instance b evaluates the next reading and raises
  assert.deepEqual(await batch(b, rule, 2, 60), ['alert.raised']);
  // a, pinned again, must see b's open alert, not what it held
  assert.deepEqual(await batch(a, rule, 3, 70), [], 'the alert b raised is open: not raised again');
  assert.deepEqual(await batch(a, rule, 4, 10), ['alert.resolved']);
  // held again from here: the next readings decide from memory, as they would from the tables
  assert.deepEqual(await batch(a, rule, 5, 80), ['alert.raised']);
  assert.deepEqual(await batch(a, rule, 6, 90), []);
  const { rows } = await stack.pool.query<{ state: { openAlertId: string | null } }>(
    'SELECT state FROM rule_series WHERE rule_id = $1',
    [rule.id],
  );
  assert.ok(rows[0]?.state.openAlertId, 'the tables hold what memory holds: one open alert');
});

test('a rule change drops what is held; a series with a timer is read again each time', async () => {
  const rule = ruleOf({ op: 'GT', value: 50, for: '1m' });
  const memory: EvaluatorMemory = { series: new SeriesCache(), rules: rulesAt('v1') };
  // later than the first test's readings of the same thing (its watermark)
  assert.deepEqual(await batch(memory, rule, 1_001, 60), []);
  // the duration runs: a timer is due, which a firing timer (any instance) may act on
  const timers = await stack.pool.query('SELECT due_at FROM rule_timers WHERE rule_id = $1', [rule.id]);
  assert.equal(timers.rowCount, 1);
  // a timer fired meanwhile and raised (what timers.ts writes): the series' row changed under memory
  await stack.pool.query(
    `UPDATE rule_series SET state = jsonb_set(state, '{openAlertId}', to_jsonb('fired-elsewhere'::text)) WHERE rule_id = $1`,
    [rule.id],
  );
  await stack.pool.query('DELETE FROM rule_timers WHERE rule_id = $1', [rule.id]);
  // the reading after it: read again (it had a timer), so the open alert holds and nothing is raised
  assert.deepEqual(await batch(memory, rule, 1_120, 65), [], 'the alert the timer raised is seen');

  memory.rules = rulesAt('v2'); // the rules the evaluator decides with changed
  await stack.pool.query('DELETE FROM rule_series WHERE rule_id = $1', [rule.id]); // a rule.updated reset
  assert.deepEqual(
    await batch(memory, rule, 1_200, 70),
    [],
    'after the reset the duration starts again from this reading: nothing raised at once',
  );
  assert.equal(
    (await stack.pool.query('SELECT 1 FROM rule_timers WHERE rule_id = $1', [rule.id])).rowCount,
    1,
    'a new timer for the new duration',
  );
});

test('an instance that waited for the evaluator’s lock sees what the holder committed meanwhile', async () => {
  const rule = ruleOf({ op: 'GT', value: 50 });
  const b: EvaluatorMemory = { series: new SeriesCache(), rules: rulesAt('v1') };
  assert.deepEqual(await batch(b, rule, 2_001, 20), []);
  assert.equal(b.series.size, 1, 'b holds the series');

  // another instance holds the lock, raises for the next reading and commits while b waits
  const holder = await stack.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM telly_rules_evaluator_lock($1, $2)', [
      'telly_rules_evaluator',
      RULES_MESSAGES,
    ]);
    const theirs = ++seq;
    await holder.query(
      `INSERT INTO rule_series (rule_id, thing_id, name, tenant_id, state)
       VALUES ($1, $2, 'temp', $3, '{"holds": true, "since": 0, "openAlertId": "raised-by-the-holder", "samples": []}')
       ON CONFLICT (rule_id, thing_id, name) DO UPDATE SET state = EXCLUDED.state`,
      [rule.id, thing, tenant],
    );
    await holder.query('UPDATE telly_checkpoints SET last_seq = $2 WHERE processor = $1', [
      RULES_MESSAGES,
      theirs,
    ]);
    const waiting = batch(b, rule, 2_003, 70);
    // b is inside its transaction, waiting for the lock
    for (;;) {
      const { rows } = await stack.pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
      );
      if (Number(rows[0]!.n) > 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await holder.query('COMMIT');
    assert.deepEqual(await waiting, [], 'the alert the holder raised is seen: not raised again');
  } finally {
    holder.release();
  }
});
