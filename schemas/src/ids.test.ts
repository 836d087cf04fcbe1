import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { v4, v7 } from 'uuid';
import {
  isTellyId,
  isTellyIdError,
  NO_SUCH_ID,
  parseTellyId,
  TELLY_ID_LENGTH,
  tellyIdOrNone,
} from './ids.ts';

describe('isTellyId', () => {
  it('accepts canonical lowercase UUIDs of any version', () => {
    for (const id of [v7(), v4(), '00000000-0000-0000-0000-000000000000'])
      assert.equal(isTellyId(id), true, id);
    fc.assert(fc.property(fc.uuid(), (id) => isTellyId(id)));
  });

  it('refuses every other form, and non-strings', () => {
    const id = v7();
    for (const value of [
      id.toUpperCase(),
      id.replaceAll('-', ''),
      `{${id}}`,
      ` ${id}`,
      `${id}\n`,
      `${id}.x`,
      `urn:uuid:${id}`,
      id.slice(0, -1),
      `${id.slice(0, -1)}g`,
      '',
      'x'.repeat(100_000),
      undefined,
      null,
      42,
      { toString: () => id },
    ]) {
      assert.equal(isTellyId(value), false, String(value).slice(0, 60));
    }
    assert.equal(id.length, TELLY_ID_LENGTH);
  });
});

describe('parseTellyId', () => {
  it('returns an id unchanged', () => {
    const id = v7();
    assert.equal(parseTellyId(id), id);
  });

  it('throws a typed error naming the field, with a bounded message', () => {
    assert.throws(
      () => parseTellyId('THING', 'thingId'),
      (err: unknown) => {
        assert.ok(err instanceof TypeError, 'a value of the wrong form');
        assert.ok(isTellyIdError(err));
        assert.equal(err.code, 'MALFORMED_ID');
        assert.equal(err.field, 'thingId');
        assert.match(err.message, /^thingId must be a lowercase UUID, got "THING"$/);
        return true;
      },
    );
    assert.throws(
      () => parseTellyId('a'.repeat(10_000)),
      (err: unknown) => {
        assert.ok(isTellyIdError(err));
        assert.ok(err.message.length < 120, err.message);
        assert.equal(err.field, 'id');
        return true;
      },
    );
    assert.throws(() => parseTellyId(null), /got null/);
    assert.equal(isTellyIdError(new Error('x')), false);
  });
});

describe('tellyIdOrNone', () => {
  it('keeps an id and turns anything else into the well-formed id of nothing', () => {
    const id = v7();
    assert.equal(tellyIdOrNone(id), id);
    for (const value of [id.toUpperCase(), 'thing', '', undefined, 7])
      assert.equal(tellyIdOrNone(value), NO_SUCH_ID);
    assert.equal(isTellyId(NO_SUCH_ID), true);
  });
});
