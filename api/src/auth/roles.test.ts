import assert from 'node:assert/strict';
import { test } from 'node:test';
import { USER_ROLES } from '@telly/schemas';
import { atLeast, highestRole, isRole, ROLE_RANK, ROLES } from './roles.ts';

test('ROLES are the registry roles, ranked from owner down to viewer', () => {
  assert.deepEqual([...ROLES], [...USER_ROLES]);
  assert.deepEqual([...ROLES], ['owner', 'admin', 'operator', 'analyst', 'viewer']);
  const ranks = ROLES.map((role) => ROLE_RANK[role]);
  assert.deepEqual(
    ranks,
    [...ranks].sort((a, b) => b - a),
  );
  assert.equal(new Set(ranks).size, ROLES.length);
});

test('atLeast compares by rank, inclusive', () => {
  assert.equal(atLeast('owner', 'viewer'), true);
  assert.equal(atLeast('admin', 'admin'), true);
  assert.equal(atLeast('admin', 'operator'), true);
  assert.equal(atLeast('operator', 'admin'), false);
  assert.equal(atLeast('viewer', 'analyst'), false);
  assert.equal(atLeast('admin', 'owner'), false);
});

test('isRole accepts only the five role names', () => {
  for (const role of ROLES) assert.equal(isRole(role), true);
  for (const value of ['Owner', 'root', '', 'toString', '__proto__', 1, undefined, null]) {
    assert.equal(isRole(value), false, String(value));
  }
});

test('highestRole picks the most powerful role, or undefined for none', () => {
  assert.equal(highestRole(['viewer', 'operator', 'analyst']), 'operator');
  assert.equal(highestRole(['viewer', 'owner', 'admin']), 'owner');
  assert.equal(highestRole(['viewer']), 'viewer');
  assert.equal(highestRole([]), undefined);
});
