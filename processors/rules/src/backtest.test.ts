import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LogEntry, messageSubject } from '@telly/schemas';
import { Backtest } from './backtest.ts';
import { alertIdOf } from './domain/ids.ts';
import { toRule, validateRule } from './domain/validate.ts';

const TENANT = '0190f5b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b';
const OTHER_TENANT = '0190f5b2-3c4d-7e8f-9a0b-1c2d3e4f5a6c';
const THING = '0190f5b2-3c4d-7e8f-9a0b-000000000002';
const OTHER_THING = '0190f5b2-3c4d-7e8f-9a0b-000000000005';
const CHANNEL = '0190f5b2-3c4d-7e8f-9a0b-000000000003';
const RULE = '0190f5b2-3c4d-7e8f-9a0b-000000000004';
const T0 = 1_700_000_000_000;

const ruleOf = (condition: Parameters<typeof validateRule>[0]['condition']) =>
  toRule(RULE, TENANT, true, validateRule({ name: 'r', measurement: 'temp', thingId: THING, condition }));

let seq = 0;
/** A log entry of one SenML reading `s` seconds after T0. */
const reading = (s: number, v: number, { tenant = TENANT, thing = THING } = {}): LogEntry => ({
  subject: messageSubject({ tenant, channel: CHANNEL, thing }),
  seq: ++seq,
  data: new TextEncoder().encode(JSON.stringify([{ n: 'temp', v, t: (T0 + s * 1000) / 1000 }])),
  headers: undefined,
  timestampMs: T0 + s * 1000,
});
const range = (fromS: number, toS: number) => ({
  from: new Date(T0 + fromS * 1000),
  to: new Date(T0 + toS * 1000),
});

describe('Backtest', () => {
  it('finds what the live rule raises, with its ids, from the rule’s readings in [from, to) only', () => {
    const backtest = new Backtest(ruleOf({ op: 'gt', value: 30 }), range(0, 100));
    for (const entry of [
      reading(-5, 40), // before `from`
      reading(0, 20),
      reading(10, 31, { thing: OTHER_THING }), // another thing
      reading(11, 31, { tenant: OTHER_TENANT }), // another tenant
      reading(20, 31),
      { ...reading(25, 0), data: new TextEncoder().encode('not senml') }, // no readings
      reading(30, 29),
      reading(100, 40), // at `to`: outside
    ])
      backtest.feed(entry);
    const result = backtest.finish();
    assert.deepEqual(
      result.alerts.map((a) => [a.alertId, a.raisedAt.getTime(), a.resolvedAt?.getTime()]),
      [[alertIdOf(RULE, THING, 'temp', T0 + 20_000), T0 + 20_000, T0 + 30_000]],
    );
    assert.equal(result.readings, 3);
    assert.equal(result.entries, 8);
    assert.equal(result.raised, 1);
  });

  it('fires the timers due by `to`, in event time', () => {
    const rule = ruleOf({ op: 'gt', value: 30, for: '10s' });
    const held = new Backtest(rule, range(0, 60));
    held.feed(reading(0, 31));
    assert.deepEqual(
      held.finish().alerts.map((a) => a.raisedAt.getTime()),
      [T0 + 10_000],
      'raised when the duration passed, with no reading after',
    );
    const short = new Backtest(rule, range(0, 5));
    short.feed(reading(0, 31));
    assert.deepEqual(short.finish().alerts, [], 'the duration passes after `to`');
  });

  it('lists at most maxAlerts, and counts every alert raised', () => {
    const backtest = new Backtest(ruleOf({ op: 'gt', value: 30 }), { ...range(0, 100), maxAlerts: 2 });
    for (const [s, v] of [
      [0, 31],
      [10, 20],
      [20, 31],
      [30, 20],
      [40, 31],
    ] as const)
      backtest.feed(reading(s, v));
    const result = backtest.finish();
    assert.deepEqual(
      result.alerts.map((a) => a.raisedAt.getTime()),
      [T0, T0 + 20_000],
    );
    assert.equal(result.raised, 3);
  });
});
