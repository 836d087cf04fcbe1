import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatVerify } from './projections.ts';

const report = {
  fromSeq: 1,
  toSeq: 40,
  messages: 40,
  points: 75,
  rowsBeyondLog: 0,
  unstorable: 12,
  unstorableEntries: Array.from({ length: 12 }, (_, i) => ({
    seq: 3 + i,
    reason: `seq ${3 + i} cannot be stored: record 0: t=1796110000000 is year 58886`,
  })),
  deadLettered: 1,
  deadLetteredEntries: [{ seq: 20, reason: 'Postgres refused seq 20…20: a trigger said no' }],
  differences: [],
};

test('telly verify lists unstorable entries apart, and they are no difference', () => {
  const text = formatVerify(report);
  assert.match(
    text,
    /^12 entries cannot be stored \(the projection dead-lettered them; see telly dlq list\):$/m,
  );
  assert.match(text, /^ {2}seq 3: seq 3 cannot be stored: record 0: t=1796110000000 is year 58886$/m);
  assert.match(text, /^ {2}… and 2 more$/m);
  assert.match(text, /^1 more entries are in the DLQ \(not compared; telly dlq show, redrive\):$/m);
  assert.match(text, /^ {2}seq 20: Postgres refused seq 20…20: a trigger said no$/m);
  assert.match(text, /^no differences$/m);
  assert.doesNotMatch(formatVerify({ ...report, unstorable: 0, unstorableEntries: [] }), /cannot be stored/);
});
