import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessagePath } from './message-path.ts';
import { HttpProblem } from './problem.ts';

const CHANNEL = '0191f3c4-8a2b-7c3d-9e4f-a1b2c3d4e5f6';
const notFound = (detail: RegExp) => (err: unknown) =>
  err instanceof HttpProblem &&
  err.status === 404 &&
  err.reason === 'invalid-topic' &&
  detail.test(err.message);

test('the channel and subtopic levels of a message path, with or without the Mainflux prefix', () => {
  assert.deepEqual(parseMessagePath(`/channels/${CHANNEL}/messages`), { channelId: CHANNEL, subtopic: [] });
  assert.deepEqual(parseMessagePath(`/http/channels/${CHANNEL}/messages/a/b_c?x=1`), {
    channelId: CHANNEL,
    subtopic: ['a', 'b_c'],
  });
  assert.deepEqual(parseMessagePath(`/channels/${CHANNEL}/messages/room%3D1/t@x`), {
    channelId: CHANNEL,
    subtopic: ['room=1', 't@x'],
  });
});

test('bad subtopic levels are refused with a 404 naming the level', () => {
  const base = `/channels/${CHANNEL}/messages`;
  assert.throws(() => parseMessagePath(`${base}/a.b`), notFound(/subtopic\[0\].*'\.'/));
  assert.throws(() => parseMessagePath(`${base}/a/b%20c`), notFound(/subtopic\[1\].*whitespace/));
  assert.throws(() => parseMessagePath(`${base}/a%2Fb`), notFound(/subtopic\[0\]/));
  assert.throws(() => parseMessagePath(`${base}/a//b`), notFound(/subtopic\[1\].*empty/));
  assert.throws(() => parseMessagePath(`${base}/`), notFound(/empty/));
  assert.throws(() => parseMessagePath(`${base}/%E0%A4%A`), notFound(/percent-encoded/));
  assert.throws(() => parseMessagePath(`${base}/${'a/'.repeat(17)}a`), notFound(/levels/));
  assert.throws(() => parseMessagePath('/channels/a*b/messages'), notFound(/channel/));
  assert.throws(() => parseMessagePath('/channels/x/other'), notFound(/is not/));
});
