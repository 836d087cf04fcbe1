import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { PublishError, toPublishError } from './publish-error.ts';

test('NATS client errors map to stable codes, and only UNAVAILABLE is retryable', () => {
  const cases: [Error, string][] = [
    [Object.assign(new Error('no responders'), { name: 'NoRespondersError' }), 'UNAVAILABLE'],
    [Object.assign(new Error('timeout'), { name: 'TimeoutError' }), 'UNAVAILABLE'],
    [new Error('message size exceeds maximum allowed'), 'MESSAGE_TOO_LARGE'],
    [new Error('maximum messages exceeded'), 'STREAM_FULL'],
    [
      new JetStreamApiError({
        code: 400,
        err_code: JetStreamApiCodes.StreamWrongLastSequence,
        description: 'wrong last sequence: 3',
      }),
      'WRONG_LAST_SEQUENCE',
    ],
    [new Error('something else entirely'), 'REJECTED'],
  ];
  for (const [err, code] of cases) {
    const mapped = toPublishError(err, 'msg.t.c.th');
    assert.equal(mapped.code, code, err.message);
    assert.equal(mapped.retryable, code === 'UNAVAILABLE');
    assert.equal(mapped.cause, err);
    assert.match(mapped.message, /subject msg\.t\.c\.th/);
  }
  const already = new PublishError('STREAM_FULL', 's', 'x');
  assert.equal(toPublishError(already, 's'), already);
});
