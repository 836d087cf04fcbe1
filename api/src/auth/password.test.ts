import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkPasswordPolicy,
  DEFAULT_ARGON2_PARAMS,
  DUMMY_PASSWORD_HASH,
  hashPassword,
  passwordNeedsRehash,
  verifyAgainstDummy,
  verifyPassword,
} from './password.ts';

const PHC_SHAPE = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

test('hashPassword makes an OWASP-parameter argon2id PHC string with a fresh salt', async () => {
  const a = await hashPassword('correct horse battery staple');
  const b = await hashPassword('correct horse battery staple');
  const ma = PHC_SHAPE.exec(a);
  const mb = PHC_SHAPE.exec(b);
  assert.ok(ma, a);
  assert.ok(mb, b);
  assert.equal(Buffer.from(ma[1]!, 'base64').length, 16);
  assert.equal(Buffer.from(ma[2]!, 'base64').length, 32);
  assert.notEqual(ma[1], mb[1], 'salts differ');
  assert.notEqual(ma[2], mb[2], 'hashes differ');
});

test('verifyPassword accepts the right password only', async () => {
  const phc = await hashPassword('correct horse battery staple');
  assert.equal(await verifyPassword('correct horse battery staple', phc), true);
  assert.equal(await verifyPassword('correct horse battery stapl', phc), false);
  assert.equal(await verifyPassword('Correct horse battery staple', phc), false);
  assert.equal(await verifyPassword('', phc), false);
});

test('verifyPassword agrees with the test vector of the argon2 reference implementation', async () => {
  // From phc-winner-argon2 test.c: argon2id, v=19, t=2, m=2^16, p=1, "password" / "somesalt".
  const reference = '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc';
  assert.equal(await verifyPassword('password', reference), true);
  assert.equal(await verifyPassword('Password', reference), false);
});

test('verifyPassword returns false for malformed or out-of-bounds hashes instead of throwing', async () => {
  const good = await hashPassword('a perfectly fine password');
  const [, , , , salt, hash] = good.split('$');
  const malformed = [
    '',
    'not a hash',
    good.replace('argon2id', 'argon2i'),
    good.replace('v=19', 'v=16'),
    good.replace('m=19456', 'm=abc'),
    good.replace('m=19456,t=2', 't=2,m=19456'),
    good.replace('m=19456', 'm=99999999'), // too much memory to compute
    good.replace('t=2', 't=1000'),
    good.replace('p=1', 'p=0'),
    good.replace(`$${hash}`, ''),
    good.replace(`$${hash}`, `$${hash}=`),
    good.replace(`$${hash}`, '$!!!!'),
    good.replace(`$${salt}`, '$c2FsdA'), // 4-byte salt
    good.replace(`$${hash}`, '$AAAA'), // 3-byte hash
    `${good}$extra`,
  ];
  for (const phc of malformed)
    assert.equal(await verifyPassword('a perfectly fine password', phc), false, phc);
  // Changing the cost changes the hash: a valid-looking string with other params does not match.
  assert.equal(await verifyPassword('a perfectly fine password', good.replace('t=2', 't=3')), false);
});

test('NFKC normalisation: compatibility forms of the same password verify', async () => {
  const phc = await hashPassword('ﬁrefly-password'); // U+FB01 LATIN SMALL LIGATURE FI
  assert.equal(await verifyPassword('firefly-password', phc), true);
});

test('the dummy hash costs the same as a real one and matches nothing', async () => {
  assert.equal(passwordNeedsRehash(DUMMY_PASSWORD_HASH), false, 'dummy uses the default parameters');
  assert.match(DUMMY_PASSWORD_HASH, PHC_SHAPE);
  assert.equal(await verifyAgainstDummy('password123'), false);
  assert.equal(await verifyPassword('', DUMMY_PASSWORD_HASH), false);
});

test('passwordNeedsRehash flags other parameters and malformed strings', async () => {
  const current = await hashPassword('some long password');
  assert.equal(passwordNeedsRehash(current), false);
  const cheap = await hashPassword('some long password', {
    ...DEFAULT_ARGON2_PARAMS,
    memoryKiB: 1024,
    passes: 1,
  });
  assert.match(cheap, /\$m=1024,t=1,p=1\$/);
  assert.equal(await verifyPassword('some long password', cheap), true);
  assert.equal(passwordNeedsRehash(cheap), true);
  assert.equal(passwordNeedsRehash('garbage'), true);
});

test('checkPasswordPolicy: length limits', () => {
  assert.equal(checkPasswordPolicy('Abc!5678x')?.code, 'TOO_SHORT');
  assert.equal(checkPasswordPolicy('Abc!5678xy'), undefined);
  assert.equal(checkPasswordPolicy('😀😀😀😀😀abcde'), undefined, 'length counts code points');
  assert.equal(checkPasswordPolicy('😀😀😀😀abcd')?.code, 'TOO_SHORT');
  const longest = 'abcdefghijklmnop'.repeat(16);
  assert.equal(longest.length, 256);
  assert.equal(checkPasswordPolicy(longest), undefined);
  assert.equal(checkPasswordPolicy(`${longest}x`)?.code, 'TOO_LONG');
});

test('checkPasswordPolicy: common passwords, case-insensitively', () => {
  for (const pw of ['password123', 'PassWord123', 'qwertyuiop', 'QWERTYUIOP', '1234567890', '1q2w3e4r5t']) {
    const problem = checkPasswordPolicy(pw);
    assert.equal(problem?.code, 'TOO_COMMON', pw);
    assert.ok(problem.message.length > 0);
  }
  assert.equal(checkPasswordPolicy('password123 but longer'), undefined);
});

test('checkPasswordPolicy: the email local part must not appear (3+ chars, case-insensitive)', () => {
  assert.equal(
    checkPasswordPolicy('my-Alice.Smith-pw', { email: 'alice.smith@example.com' })?.code,
    'CONTAINS_EMAIL',
  );
  assert.equal(checkPasswordPolicy('xxALICExx99', { email: 'Alice@Example.com' })?.code, 'CONTAINS_EMAIL');
  assert.equal(checkPasswordPolicy('xxALICExx99', { email: 'bob@example.com' }), undefined);
  assert.equal(
    checkPasswordPolicy('jo-walks-far', { email: 'jo@example.com' }),
    undefined,
    'short local part',
  );
  assert.equal(
    checkPasswordPolicy('example.com-9', { email: 'bob@example.com' }),
    undefined,
    'domain is fine',
  );
  assert.equal(checkPasswordPolicy('xxALICExx99'), undefined, 'no email given');
});

test('checkPasswordPolicy: at least 5 distinct characters', () => {
  assert.equal(checkPasswordPolicy('aaaaaaaaaaaa')?.code, 'TOO_SIMPLE');
  assert.equal(checkPasswordPolicy('abababababab')?.code, 'TOO_SIMPLE');
  assert.equal(checkPasswordPolicy('abcdabcdabcd')?.code, 'TOO_SIMPLE');
  assert.equal(checkPasswordPolicy('abcdeabcdeab'), undefined);
});

test('checkPasswordPolicy returns the first problem in rule order', () => {
  assert.equal(checkPasswordPolicy('aaa')?.code, 'TOO_SHORT');
  // Common and containing the local part "password": TOO_COMMON wins.
  assert.equal(checkPasswordPolicy('password123', { email: 'password@example.com' })?.code, 'TOO_COMMON');
  // Contains the local part and too simple: CONTAINS_EMAIL wins.
  assert.equal(checkPasswordPolicy('aaaaaaaaaaaa', { email: 'aaa@example.com' })?.code, 'CONTAINS_EMAIL');
});
