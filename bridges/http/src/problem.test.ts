import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IngestError } from '@telly/bridge-core';
import { HttpProblem, problemOf } from './problem.ts';

test('ingest refusals keep their status, reason and retry delay', () => {
  assert.deepEqual(problemOf(new IngestError('rate-limited', 'too many', { retryAfter: 2 })), {
    problem: {
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'too many',
      reason: 'rate-limited',
    },
    retryAfter: 2,
  });
  assert.equal(problemOf(new IngestError('forbidden', 'not connected')).problem.status, 403);
  assert.equal(problemOf(new IngestError('thing-disabled', 'disabled')).problem.status, 403);
  assert.equal(problemOf(new HttpProblem(503, 'unavailable', 'down', { retryAfter: 1 })).retryAfter, 1);
});

test("Fastify's client errors keep their status; anything else is a 500 that says nothing about internals", () => {
  const tooLarge = Object.assign(new Error('Request body is too large'), {
    statusCode: 413,
    code: 'FST_ERR_CTP_BODY_TOO_LARGE',
  });
  assert.equal(problemOf(tooLarge).problem.reason, 'payload-too-large');
  assert.equal(problemOf(tooLarge).problem.status, 413);
  const { problem } = problemOf(new Error('password=hunter2 at db.internal:5432'));
  assert.equal(problem.status, 500);
  assert.doesNotMatch(JSON.stringify(problem), /hunter2|db\.internal/);
});
