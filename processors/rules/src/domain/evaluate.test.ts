import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateReading, evaluateTimer } from './evaluate.ts';
import { alertIdOf } from './ids.ts';
import { initialSeriesState, type Reading, type SeriesState } from './types.ts';
import { toRule, validateRule } from './validate.ts';

const THING = '0190f5b2-3c4d-7e8f-9a0b-000000000002';
const CHANNEL = '0190f5b2-3c4d-7e8f-9a0b-000000000003';
const RULE = '0190f5b2-3c4d-7e8f-9a0b-000000000004';
const TENANT = '0190f5b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b';

const ruleOf = (condition: Parameters<typeof validateRule>[0]['condition']) =>
  toRule(RULE, TENANT, true, validateRule({ name: 'r', measurement: 'temp', condition }));
const at = (s: number, value: Reading['value']): Reading => ({
  thingId: THING,
  channelId: CHANNEL,
  name: 'temp',
  value,
  timeMs: 1_700_000_000_000 + s * 1000,
});

/** Folds readings, returning the transitions as [kind, seconds] and the final state. */
function run(rule: ReturnType<typeof ruleOf>, readings: Reading[]) {
  let state: SeriesState = initialSeriesState();
  let timer: number | null = null;
  const out: [string, number][] = [];
  for (const r of readings) {
    const result = evaluateReading(rule, state, r);
    if (!result) continue;
    state = result.state;
    timer = result.timer;
    for (const t of result.transitions) out.push([t.kind, (t.timeMs - 1_700_000_000_000) / 1000]);
  }
  return { out, state, timer };
}

describe('evaluateReading', () => {
  it('raises a threshold at once, and once', () => {
    const { out } = run(ruleOf({ op: 'gt', value: 30 }), [at(0, 20), at(1, 31), at(2, 35), at(3, 29)]);
    assert.deepEqual(out, [
      ['raised', 1],
      ['resolved', 3],
    ]);
  });

  it('raises a threshold held for a duration when the duration has passed, by a reading or its timer', () => {
    const rule = ruleOf({ op: 'gt', value: 30, for: '10s' });
    // a dip restarts the duration
    const early = run(rule, [at(0, 31), at(5, 20), at(6, 31), at(12, 32)]);
    assert.deepEqual(early.out, []);
    assert.equal(early.timer, at(16, 0).timeMs, 'the timer is due 10 s after the condition began to hold');
    const byReading = run(rule, [at(0, 31), at(5, 20), at(6, 31), at(12, 32), at(20, 33)]);
    assert.deepEqual(byReading.out, [['raised', 16]], 'raised at the moment the duration passed');
    const byTimer = evaluateTimer(rule, early.state, { thingId: THING, name: 'temp' }, early.timer!);
    assert.equal(byTimer?.transitions[0]?.alertId, alertIdOf(RULE, THING, 'temp', at(16, 0).timeMs));
    assert.equal(
      byReading.state.openAlertId,
      byTimer?.transitions[0]?.alertId,
      'reading and timer raise one alert',
    );
    // a timer that the state moved past does nothing
    assert.equal(
      evaluateTimer(rule, early.state, { thingId: THING, name: 'temp' }, at(10, 0).timeMs),
      undefined,
    );
  });

  it('does not flap with hysteresis', () => {
    const rule = ruleOf({ op: 'gt', value: 30, clearValue: 25 });
    const { out } = run(rule, [
      at(0, 31),
      at(1, 29),
      at(2, 31),
      at(3, 28),
      at(4, 26),
      at(5, 24),
      at(6, 29),
      at(7, 31),
    ]);
    assert.deepEqual(out, [
      ['raised', 0],
      ['resolved', 5],
      ['raised', 7],
    ]);
    const flapping = run(ruleOf({ op: 'gt', value: 30 }), [at(0, 31), at(1, 29), at(2, 31), at(3, 28)]);
    assert.equal(flapping.out.length, 4, 'without a clear value the same readings flap');
  });

  it('raises no data for a silent thing and resolves when it speaks', () => {
    const rule = ruleOf({ op: 'no_data', for: '60s' });
    const first = run(rule, [at(0, 1), at(30, 2)]);
    assert.deepEqual(first.out, []);
    assert.equal(first.timer, at(90, 0).timeMs);
    const fired = evaluateTimer(rule, first.state, { thingId: THING, name: 'temp' }, first.timer!);
    assert.equal(fired?.transitions[0]?.kind, 'raised');
    const spoke = evaluateReading(rule, fired!.state, at(200, 3));
    assert.deepEqual(
      spoke?.transitions.map((t) => t.kind),
      ['resolved'],
    );
    // the same gap seen only by readings (the timer never ran) raises the same alert, then resolves it
    const gap = run(rule, [at(0, 1), at(30, 2), at(200, 3)]);
    assert.deepEqual(gap.out, [
      ['raised', 90],
      ['resolved', 200],
    ]);
  });

  it('compares the rate of change and window aggregates', () => {
    const rate = ruleOf({ op: 'gt', value: 1, aggregate: 'rate', window: '10s' });
    assert.deepEqual(run(rate, [at(0, 10), at(5, 12), at(10, 25)]).out, [['raised', 10]]);
    const avg = ruleOf({ op: 'gte', value: 20, aggregate: 'avg', window: '10s' });
    assert.deepEqual(run(avg, [at(0, 10), at(5, 20), at(9, 30), at(30, 10)]).out, [
      ['raised', 9],
      ['resolved', 30],
    ]);
    const max = ruleOf({ op: 'lt', value: 5, aggregate: 'max', window: '10s' });
    assert.deepEqual(run(max, [at(0, 9), at(5, 1), at(11, 2)]).out, [['raised', 11]]);
  });

  it('compares strings and booleans for equality, and skips late readings', () => {
    assert.deepEqual(run(ruleOf({ op: 'eq', valueString: 'open' }), [at(0, 'closed'), at(1, 'open')]).out, [
      ['raised', 1],
    ]);
    assert.deepEqual(run(ruleOf({ op: 'neq', valueBoolean: true }), [at(0, true), at(1, false)]).out, [
      ['raised', 1],
    ]);
    const late = run(ruleOf({ op: 'gt', value: 30 }), [at(10, 20), at(5, 40), at(11, 20)]);
    assert.deepEqual(late.out, [], 'a reading older than the last one evaluated changes nothing');
  });

  it('between and outside', () => {
    assert.deepEqual(
      run(ruleOf({ op: 'outside', value: 10, value2: 20 }), [at(0, 15), at(1, 21), at(2, 20)]).out,
      [
        ['raised', 1],
        ['resolved', 2],
      ],
    );
    assert.deepEqual(run(ruleOf({ op: 'between', value: 10, value2: 20 }), [at(0, 5), at(1, 10)]).out, [
      ['raised', 1],
    ]);
  });
});

describe('validateRule', () => {
  const base = { name: 'r', measurement: 'temp' };
  const field = (input: Parameters<typeof validateRule>[0]) => {
    try {
      validateRule(input);
      return undefined;
    } catch (err) {
      return (err as { field?: string }).field;
    }
  };
  it('names the field that is wrong', () => {
    assert.equal(field({ ...base, condition: { op: 'gt', value: 1, for: '5 parsecs' } }), 'condition.for');
    assert.equal(field({ ...base, condition: { op: 'between', value: 10, value2: 5 } }), 'condition.value2');
    assert.equal(field({ ...base, condition: { op: 'no_data' } }), 'condition.for');
    assert.equal(
      field({ ...base, condition: { op: 'gt', value: 1, clearValue: 2 } }),
      'condition.clearValue',
    );
    assert.equal(
      field({
        ...base,
        condition: { op: 'gt', value: 1 },
        actions: [{ email: { to: ['ops@example.com', 'not-an-address'] } }],
      }),
      'actions[0].email.to[1]',
    );
    assert.equal(field({ ...base, condition: { op: 'gt', value: 1 }, actions: [{}] }), 'actions[0]');
    assert.equal(
      field({ ...base, condition: { op: 'gt', value: 1 }, actions: [{ webhook: { url: 'ftp://x' } }] }),
      'actions[0].webhook.url',
    );
    assert.equal(field({ ...base, condition: { op: 'gt', value: 1, aggregate: 'avg' } }), 'condition.window');
    assert.equal(
      field({
        ...base,
        condition: { op: 'gt', value: 1 },
        actions: [{ command: { thingId: 't', name: 'led', payload: 'OFF', on: 'ACKNOWLEDGED' } }],
      }),
      'actions[0].command.on',
    );
    assert.equal(field({ ...base, condition: { op: 'gt', value: 1 } }), undefined);
  });
});
