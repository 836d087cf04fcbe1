// The connection wrapper every device socket passes through: what the broker writes while
// corked (the MQTT encoder writes a packet in pieces) reaches the socket as one write.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { LimitedConnection } from './limited-connection.ts';

test('a packet written in pieces inside a cork is one write on the socket, bytes in order', async () => {
  const socket = new PassThrough();
  const writes: Buffer[] = [];
  const write = socket.write.bind(socket);
  socket.write = ((chunk: Buffer, ...rest: never[]) => {
    writes.push(Buffer.from(chunk));
    return write(chunk, ...rest);
  }) as typeof socket.write;
  const connection = new LimitedConnection(socket, 1024, () => assert.fail('not too large'));

  // a PUBACK for packet id 7, as mqtt-packet writes it: header, length, id
  connection.cork();
  connection.write(Buffer.from([0x40]));
  connection.write(Buffer.from([0x02]));
  connection.write(Buffer.from([0x00, 0x07]));
  process.nextTick(() => connection.uncork());
  await once(socket, 'readable');

  assert.equal(writes.length, 1, 'one write for the whole packet');
  assert.deepEqual([...writes[0]!], [0x40, 0x02, 0x00, 0x07]);
  // uncorked, a write goes straight through
  connection.write(Buffer.from([0xd0, 0x00]));
  assert.equal(writes.length, 2);
  connection.destroy();
});
