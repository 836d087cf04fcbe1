import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddress, NO_ADDRESS } from './client-address.ts';

const req = (remoteAddress: string | undefined, forwarded?: string | string[]) => ({
  socket: { remoteAddress } as never,
  headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
});

test('the socket peer, with IPv4-mapped IPv6 written as IPv4', () => {
  assert.equal(clientAddress(req('203.0.113.7'), false), '203.0.113.7');
  assert.equal(clientAddress(req('::ffff:203.0.113.7'), false), '203.0.113.7');
  assert.equal(clientAddress(req('2001:db8::1'), false), '2001:db8::1');
  assert.equal(clientAddress(undefined, true), NO_ADDRESS);
});

test('X-Forwarded-For is ignored unless the API is behind the proxy', () => {
  assert.equal(clientAddress(req('127.0.0.1', '198.51.100.1'), false), '127.0.0.1');
});

test("behind the proxy, the proxy's own (last) entry counts, from a loopback peer only", () => {
  // the client sent its own X-Forwarded-For; the proxy appended the address it saw
  assert.equal(clientAddress(req('127.0.0.1', '10.9.9.9, 198.51.100.1'), true), '198.51.100.1');
  assert.equal(clientAddress(req('::1', ['10.9.9.9', '198.51.100.2']), true), '198.51.100.2');
  assert.equal(clientAddress(req('::ffff:127.0.0.1', '198.51.100.3'), true), '198.51.100.3');
  // a peer that is not the proxy cannot choose its address
  assert.equal(clientAddress(req('203.0.113.7', '198.51.100.1'), true), '203.0.113.7');
  // nor can a header that names no address
  assert.equal(clientAddress(req('127.0.0.1', 'not-an-ip'), true), '127.0.0.1');
  assert.equal(clientAddress(req('127.0.0.1'), true), '127.0.0.1');
});
