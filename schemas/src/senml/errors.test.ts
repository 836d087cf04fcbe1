// Each rejection rule: the code, the record index and field, and a message naming both.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode, Tag } from 'cbor2';
import { decodeMessage } from './decode.ts';
import { isSenmlError, SenmlError, type SenmlErrorCode } from './errors.ts';
import { parseSenmlCbor, parseSenmlJson } from './parse.ts';
import { resolveSenml } from './resolve.ts';

const NOW = 1.7e9;
const utf8 = (text: string) => new TextEncoder().encode(text);
const resolveJson = (json: string) => resolveSenml(parseSenmlJson(json), { now: NOW });
/** A CBOR record with integer labels (a plain object would encode its keys as text). */
const rec = (fields: Record<number, unknown>) =>
  new Map(Object.entries(fields).map(([k, v]) => [Number(k), v]));
/** A one-record CBOR pack whose labels mix integers and text, in the order given. */
const mixedPack = (...labels: [number | string, unknown][]) => encode([new Map<unknown, unknown>(labels)]);

function rejects(
  run: () => unknown,
  code: SenmlErrorCode,
  where: { index?: number; field?: string; message?: RegExp } = {},
): SenmlError {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  assert.ok(isSenmlError(caught), `expected a SenmlError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.index, where.index, caught.message);
  if (where.index !== undefined) assert.match(caught.message, new RegExp(`^record ${where.index}: `));
  if ('field' in where) assert.equal(caught.field, where.field);
  if (where.message) assert.match(caught.message, where.message);
  return caught;
}

describe('pack shape', () => {
  test('not an array', () => {
    rejects(() => parseSenmlJson('{"n":"a","v":1}'), 'SENML_NOT_ARRAY');
  });
  test('not an array (CBOR)', () => {
    rejects(() => parseSenmlCbor(encode(new Map([[0, 'a']]))), 'SENML_NOT_ARRAY');
  });
  test('empty pack', () => {
    rejects(() => parseSenmlJson('[]'), 'SENML_EMPTY');
  });
  test('a record that is not an object', () => {
    rejects(() => parseSenmlJson('[{"n":"a","v":1},5]'), 'SENML_NOT_OBJECT', { index: 1 });
    rejects(() => parseSenmlJson('[{"n":"a","v":1},{"n":"b","v":2},null]'), 'SENML_NOT_OBJECT', { index: 2 });
    rejects(() => parseSenmlJson('[[]]'), 'SENML_NOT_OBJECT', { index: 0 });
    rejects(() => parseSenmlCbor(encode([new Map([[0, 'a']]), 'x'])), 'SENML_NOT_OBJECT', { index: 1 });
  });
  test('more records than maxRecords', () => {
    rejects(() => parseSenmlJson('[{"v":1},{"v":2},{"v":3}]', { maxRecords: 2 }), 'SENML_TOO_LARGE');
    assert.equal(parseSenmlJson('[{"v":1},{"v":2}]', { maxRecords: 2 }).length, 2);
  });
  test('more bytes than maxBytes, for bytes, text and CBOR', () => {
    const body = `[{"n":"a","vs":"${'x'.repeat(100)}"}]`;
    rejects(() => parseSenmlJson(utf8(body), { maxBytes: 100 }), 'SENML_TOO_LARGE');
    rejects(
      () => parseSenmlJson(`[{"n":"a","vs":"${'é'.repeat(60)}"}]`, { maxBytes: 100 }),
      'SENML_TOO_LARGE',
    );
    rejects(
      () => parseSenmlCbor(encode([rec({ 0: 'a', 3: 'x'.repeat(100) })]), { maxBytes: 100 }),
      'SENML_TOO_LARGE',
    );
  });
  test('the defaults are 1000 records and 256 KiB', () => {
    rejects(
      () => parseSenmlJson(JSON.stringify(Array.from({ length: 1001 }, () => ({ v: 1 })))),
      'SENML_TOO_LARGE',
    );
    rejects(() => parseSenmlJson(`[{"vs":"${'x'.repeat(256 * 1024)}"}]`), 'SENML_TOO_LARGE');
  });
});

describe('syntax', () => {
  test('invalid JSON keeps the parser error as cause', () => {
    const err = rejects(() => parseSenmlJson('[{"n":'), 'SENML_BAD_JSON');
    assert.ok(err.cause instanceof SyntaxError);
  });
  test('invalid UTF-8', () => {
    rejects(() => parseSenmlJson(Uint8Array.of(0x5b, 0xff, 0x5d)), 'SENML_BAD_JSON');
  });
  test('truncated CBOR', () => {
    rejects(() => parseSenmlCbor(Uint8Array.of(0x82, 0xa1)), 'SENML_BAD_CBOR');
  });
  test('CBOR with trailing bytes', () => {
    rejects(() => parseSenmlCbor(Uint8Array.of(0x80, 0x00)), 'SENML_BAD_CBOR');
  });
});

describe('field types (RFC 8428 Table 1)', () => {
  const cases: [string, string][] = [
    ['v', '"1"'],
    ['vb', '1'],
    ['vs', '2'],
    ['n', '3'],
    ['bt', '"now"'],
    ['vd', '"aGkgCg=="'],
    ['vd', '"a+b/"'],
    ['bver', '1.5'],
    ['bver', '0'],
    ['u', 'null'],
  ];
  for (const [field, value] of cases) {
    test(`"${field}": ${value}`, () => {
      rejects(() => parseSenmlJson(`[{"n":"a","v":1},{"${field}":${value}}]`), 'SENML_BAD_TYPE', {
        index: 1,
        field,
        message: new RegExp(`field "${field}" must be`),
      });
    });
  }
  test('vd must be a byte string in CBOR', () => {
    rejects(() => parseSenmlCbor(encode([rec({ 0: 'a', 8: 'aGkgCg' })])), 'SENML_BAD_TYPE', {
      index: 0,
      field: 'vd',
    });
  });
  test('lone surrogates are not text', () => {
    rejects(() => parseSenmlJson('[{"n":"a","vs":"\\ud800"}]'), 'SENML_BAD_TYPE', { index: 0, field: 'vs' });
  });
  test('numbers beyond the double range', () => {
    rejects(() => parseSenmlJson('[{"n":"a","v":1e999}]'), 'SENML_NOT_FINITE', { index: 0, field: 'v' });
    rejects(() => parseSenmlCbor(encode([rec({ 0: 'a', 2: Number.NaN })])), 'SENML_NOT_FINITE', {
      index: 0,
      field: 'v',
    });
    rejects(
      () => resolveJson('[{"n":"a","v":1},{"n":"a","bt":1.7e308,"t":1.7e308,"v":1}]'),
      'SENML_NOT_FINITE',
      {
        index: 1,
        field: 't',
      },
    );
  });
  test('a label given both as integer and as text in CBOR', () => {
    rejects(() => parseSenmlCbor(mixedPack([0, 'a'], ['n', 'b'], [2, 1])), 'SENML_DUPLICATE_FIELD', {
      index: 0,
      field: 'n',
    });
  });
});

describe('CBOR numbers (RFC 8428 §6)', () => {
  const cborValue = (v: unknown) => parseSenmlCbor(encode([rec({ 0: 'a', 2: v })]))[0]?.v;
  test('bignums and decimal fractions are numbers', () => {
    assert.equal(cborValue(2n ** 70n), 2 ** 70);
    assert.equal(cborValue(-(2n ** 70n)), -(2 ** 70));
    assert.equal(cborValue(new Tag(4, [-3, 1276020076001])), 1276020076.001);
    assert.equal(cborValue(new Tag(4, [2, -15])), -1500);
  });
  test('other tags are not numbers', () => {
    rejects(() => cborValue(new Tag(1, 1700000000)), 'SENML_BAD_TYPE', { index: 0, field: 'v' });
    rejects(() => cborValue(new Tag(4, ['x', 1])), 'SENML_BAD_TYPE', { index: 0, field: 'v' });
  });
  test('a version must be an unsigned integer', () => {
    rejects(() => parseSenmlCbor(encode([rec({ '-1': 5.5, 0: 'a', 2: 1 })])), 'SENML_BAD_TYPE', {
      index: 0,
      field: 'bver',
    });
  });
});

describe('extensibility (RFC 8428 §4.4)', () => {
  test('an unknown label ending in "_" must be understood', () => {
    rejects(() => parseSenmlJson('[{"n":"a","v":1},{"n":"b","v":2,"foo_":1}]'), 'SENML_MUST_UNDERSTAND', {
      index: 1,
      field: 'foo_',
      message: /"foo_"/,
    });
    rejects(() => parseSenmlCbor(mixedPack([0, 'a'], ['x_', 1])), 'SENML_MUST_UNDERSTAND', {
      index: 0,
      field: 'x_',
    });
  });
  test('other unknown labels are ignored', () => {
    assert.deepEqual(parseSenmlJson('[{"n":"a","v":1,"foo":{"x":1},"constructor":1,"toString":"x"}]'), [
      { n: 'a', v: 1 },
    ]);
    assert.deepEqual(parseSenmlCbor(mixedPack([0, 'a'], [2, 1], [99, 'x'], ['ext', 1])), [{ n: 'a', v: 1 }]);
  });
  test('a version above 10 is refused', () => {
    rejects(() => resolveJson('[{"bver":11,"n":"a","v":1}]'), 'SENML_UNSUPPORTED_VERSION', {
      index: 0,
      field: 'bver',
    });
  });
  test('all records share one version', () => {
    rejects(
      () => resolveJson('[{"bver":5,"n":"a","v":1},{"bver":6,"n":"b","v":1}]'),
      'SENML_VERSION_MISMATCH',
      {
        index: 1,
        field: 'bver',
      },
    );
    rejects(() => resolveJson('[{"n":"a","v":1},{"bver":9,"n":"b","v":1}]'), 'SENML_VERSION_MISMATCH', {
      index: 1,
    });
    assert.equal(resolveJson('[{"bver":10,"n":"a","v":1},{"bver":10,"n":"b","v":1}]')[1]?.bver, undefined);
  });
});

describe('resolution rules', () => {
  test('the name rule of §4.5.1 is quoted with the record index', () => {
    const err = rejects(
      () => resolveJson('[{"bn":"dev:","n":"x","v":1},{"n":"y","v":2},{"n":"a b","v":3}]'),
      'SENML_INVALID_NAME',
      { index: 2, field: 'n' },
    );
    assert.equal(
      err.message,
      'record 2: name "dev:a b" must match ^[A-Za-z0-9][A-Za-z0-9:./_-]*$ (RFC 8428 §4.5.1)',
    );
  });
  test('names must start with a letter or digit and not be empty', () => {
    rejects(() => resolveJson('[{"n":"-a","v":1}]'), 'SENML_INVALID_NAME', { index: 0 });
    rejects(() => resolveJson('[{"n":"/a","v":1}]'), 'SENML_INVALID_NAME', { index: 0 });
    rejects(() => resolveJson('[{"n":"a","v":1},{"bn":"","v":1}]'), 'SENML_INVALID_NAME', {
      index: 1,
      message: /no name/,
    });
    rejects(() => resolveJson('[{"n":"é","v":1}]'), 'SENML_INVALID_NAME', { index: 0 });
  });
  test('a record needs a value or a sum', () => {
    rejects(() => resolveJson('[{"n":"a","v":1},{"n":"b","u":"Cel"}]'), 'SENML_NO_VALUE', { index: 1 });
    // A base value does not stand in for a missing value.
    rejects(() => resolveJson('[{"n":"a","bv":3,"t":5}]'), 'SENML_NO_VALUE', { index: 0 });
    rejects(() => resolveJson('[{"bn":"a"}]'), 'SENML_NO_VALUE', { index: undefined });
    assert.deepEqual(resolveJson('[{"n":"a","s":5}]'), [{ n: 'a', t: NOW, s: 5 }]);
    assert.deepEqual(resolveJson('[{"n":"a","bs":5,"t":1}]'), [{ n: 'a', t: NOW + 1, s: 5 }]);
  });
  test('a record has at most one value', () => {
    rejects(() => resolveJson('[{"n":"a","v":1,"vs":"x"}]'), 'SENML_MULTIPLE_VALUES', {
      index: 0,
      field: 'vs',
    });
    rejects(() => resolveJson('[{"n":"a","v":1},{"n":"a","vb":true,"vd":"AA"}]'), 'SENML_MULTIPLE_VALUES', {
      index: 1,
      message: /"vb", "vd"/,
    });
  });
  test('resolveSenml refuses an invalid now as a programming error', () => {
    assert.throws(() => resolveSenml([{ n: 'a', v: 1 }], { now: Number.NaN }), RangeError);
  });
});

describe('content types', () => {
  for (const contentType of [
    'text/plain',
    'application/xml',
    'application/senml+xml',
    'application/json; charset=latin1',
  ]) {
    test(`${contentType} is unsupported`, () => {
      rejects(
        () => decodeMessage(contentType, utf8('[{"n":"a","v":1}]'), { now: NOW }),
        'SENML_UNSUPPORTED_CONTENT_TYPE',
        {
          message: /is not one of/,
        },
      );
    });
  }
});

test('isSenmlError narrows by class and code', () => {
  const err = new SenmlError('SENML_EMPTY', 'x');
  assert.equal(err.name, 'SenmlError');
  assert.ok(err instanceof Error);
  assert.ok(isSenmlError(err) && isSenmlError(err, 'SENML_EMPTY'));
  assert.ok(!isSenmlError(err, 'SENML_BAD_JSON'));
  assert.ok(!isSenmlError(new Error('x')));
  assert.equal(new SenmlError('SENML_NO_VALUE', 'y', { index: 3 }).message, 'record 3: y');
});
