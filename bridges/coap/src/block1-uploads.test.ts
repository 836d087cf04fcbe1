import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readBlockOption, writeBlockOption } from './block-option.ts';
import { Block1Uploads } from './block1-uploads.ts';

const SZX_16 = 0; // 16-byte blocks
const bytes = (n: number, fill = 0x61) => Buffer.alloc(n, fill);
const uploads = (maxBytes = 64) => new Block1Uploads({ maxBytes, maxUploads: 2, timeoutMs: 1_000 });

test('a Block option reads back what was written, in the fewest bytes; BERT (szx 7) and 4 bytes are malformed', () => {
  for (const block of [
    { num: 0, more: false, szx: 0 },
    { num: 0, more: true, szx: 6 },
    { num: 15, more: true, szx: 2 },
    { num: 4095, more: false, szx: 6 },
    { num: 1_048_575, more: true, szx: 6 },
  ]) {
    assert.deepEqual(readBlockOption(writeBlockOption(block)), block);
  }
  assert.equal(writeBlockOption({ num: 0, more: false, szx: 0 }).length, 0);
  assert.equal(writeBlockOption({ num: 16, more: false, szx: 6 }).length, 2);
  assert.equal(readBlockOption(Buffer.of(0x07)), undefined);
  assert.equal(readBlockOption(Buffer.of(1, 2, 3, 4)), undefined);
});

test('blocks in order from 0 reassemble into the body, whatever their tokens; the key is endpoint and URI', () => {
  const u = uploads();
  const key = '127.0.0.1|5000|/channels/c/messages?auth=k';
  assert.equal(u.add(key, 1, { num: 0, more: true, szx: SZX_16 }, bytes(16, 0x61)).kind, 'continue');
  assert.equal(u.add(key, 2, { num: 1, more: true, szx: SZX_16 }, bytes(16, 0x62)).kind, 'continue');
  const last = u.add(key, 3, { num: 2, more: false, szx: SZX_16 }, bytes(5, 0x63));
  assert.equal(last.kind, 'complete');
  assert.deepEqual(
    last.kind === 'complete' && last.body,
    Buffer.concat([bytes(16, 0x61), bytes(16, 0x62), bytes(5, 0x63)]),
  );
});

test('a retransmitted block (same message id) gets the step it got, the last one included', () => {
  const u = uploads();
  const key = 'k';
  const first = u.add(key, 7, { num: 0, more: true, szx: SZX_16 }, bytes(16));
  assert.equal(u.add(key, 7, { num: 0, more: true, szx: SZX_16 }, bytes(16)), first);
  const done = u.add(key, 8, { num: 1, more: false, szx: SZX_16 }, bytes(3));
  assert.equal(u.add(key, 8, { num: 1, more: false, szx: SZX_16 }, bytes(3)), done);
});

test('out of order, unknown or short blocks are incomplete (4.08); over the limit is too large; too many uploads is busy', () => {
  const u = uploads(40);
  assert.equal(u.add('a', 1, { num: 1, more: true, szx: SZX_16 }, bytes(16)).kind, 'incomplete');
  u.add('b', 1, { num: 0, more: true, szx: SZX_16 }, bytes(16));
  assert.equal(
    u.add('b', 2, { num: 2, more: true, szx: SZX_16 }, bytes(16)).kind,
    'incomplete',
    'block 1 skipped',
  );
  u.add('c', 1, { num: 0, more: true, szx: SZX_16 }, bytes(16));
  assert.equal(
    u.add('c', 2, { num: 1, more: true, szx: SZX_16 }, bytes(10)).kind,
    'incomplete',
    'a short middle block',
  );
  u.add('d', 1, { num: 0, more: true, szx: SZX_16 }, bytes(16));
  u.add('d', 2, { num: 1, more: true, szx: SZX_16 }, bytes(16));
  const over = u.add('d', 3, { num: 2, more: true, szx: SZX_16 }, bytes(16));
  assert.deepEqual(over.kind === 'too-large' && over.bytes, 48);
  u.add('e', 1, { num: 0, more: true, szx: SZX_16 }, bytes(16));
  assert.equal(u.add('f', 1, { num: 0, more: true, szx: SZX_16 }, bytes(16)).kind, 'busy');
});

test('an idle upload is dropped after the timeout', () => {
  const u = uploads();
  u.add('a', 1, { num: 0, more: true, szx: SZX_16 }, bytes(16), 0);
  assert.equal(u.add('a', 2, { num: 1, more: false, szx: SZX_16 }, bytes(1), 2_000).kind, 'incomplete');
  assert.equal(u.size, 0);
});
