import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeCondition } from './rule-words.ts';

describe('a rule condition in words', () => {
  it('says the threshold, its duration and where it clears', () => {
    assert.equal(
      describeCondition('temp', { op: 'GT', value: 30, for: '5m', clearValue: 28 }),
      'temp > 30 for 5m, clears below 28',
    );
    assert.equal(
      describeCondition('temp', { op: 'LTE', value: 2, clearValue: 4 }),
      'temp ≤ 2, clears above 4',
    );
  });

  it('says ranges, strings, windows and silence', () => {
    assert.equal(describeCondition('ph', { op: 'OUTSIDE', value: 6, value2: 7.5 }), 'ph outside 6 to 7.5');
    assert.equal(describeCondition('door', { op: 'EQ', valueString: 'open' }), 'door = "open"');
    assert.equal(describeCondition('door', { op: 'NEQ', valueBoolean: false }), 'door ≠ false');
    assert.equal(
      describeCondition('temp', { op: 'GT', value: 25, aggregate: 'AVG', window: '10m' }),
      'avg of temp over 10m > 25',
    );
    assert.equal(describeCondition('temp', { op: 'NO_DATA', for: '15m' }), 'no temp for 15m');
  });
});
