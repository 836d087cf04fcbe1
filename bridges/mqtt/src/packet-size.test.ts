import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketSizeLimit } from './packet-size.ts';
import { fixedHeader } from './testing/raw-mqtt.ts';

const packet = (type: number, bodyBytes: number) =>
  Buffer.concat([fixedHeader(type, bodyBytes), Buffer.alloc(bodyBytes, 0x61)]);

test('packets within the limit pass, however the bytes are split', () => {
  const stream = Buffer.concat([packet(0x10, 40), packet(0x30, 200), packet(0xc0, 0), packet(0x30, 16_379)]);
  for (const chunkBytes of [1, 2, 3, 7, 128, stream.length]) {
    const limit = new PacketSizeLimit(16_384);
    for (let i = 0; i < stream.length; i += chunkBytes) {
      assert.equal(limit.check(stream.subarray(i, i + chunkBytes)), undefined, `chunks of ${chunkBytes}`);
    }
  }
});

test('a packet over the limit is known from its header, before any of its body', () => {
  const limit = new PacketSizeLimit(16_384);
  assert.equal(limit.check(packet(0x30, 100)), undefined);
  assert.equal(limit.check(packet(0x30, 16_381)), undefined, '3 + 16,381 bytes: at the limit');
  assert.equal(limit.check(fixedHeader(0x30, 16_382)), 16_385, 'the whole packet size, header included');
  const split = new PacketSizeLimit(1024);
  const header = fixedHeader(0x10, 40 * 1024 * 1024);
  assert.equal(split.check(header.subarray(0, 3)), undefined);
  assert.equal(split.check(header.subarray(3)), 40 * 1024 * 1024 + 5);
});

test('a Remaining Length of more than four bytes is malformed: refused', () => {
  assert.equal(new PacketSizeLimit(1024).check(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), Infinity);
});
