// Test support for the auth tests (not exported from the package).
import assert from 'node:assert/strict';
import { isTokenError, type TokenErrorCode } from './token-error.ts';

/** Asserts that `promise` rejects with a {@link TokenError} of `code` (and a message matching `message`). */
export async function assertRefused(promise: Promise<unknown>, code: TokenErrorCode, message?: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isTokenError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}
