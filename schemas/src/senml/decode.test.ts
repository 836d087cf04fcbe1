import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeMessage, messageFormat } from './decode.ts';
import { encodeResolvedJson, encodeSenmlCbor } from './encode.ts';
import { parseSenmlCbor } from './parse.ts';
import { msToSenmlTime, senmlTimeToMs } from './resolve.ts';

const NOW = 1.7e9;
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('decodeMessage', () => {
  const pack = '[{"bn":"dev:","n":"temp","u":"Cel","v":21.5}]';
  const resolved = [{ n: 'dev:temp', u: 'Cel', t: NOW, v: 21.5 }];

  test('reads SenML JSON under its registered type, the draft alias and with parameters', () => {
    for (const type of [
      'application/senml+json',
      'application/senml-json',
      'Application/SenML+JSON; charset="utf-8"',
    ]) {
      assert.deepEqual(decodeMessage(type, utf8(pack), { now: NOW }), { records: resolved });
    }
  });

  test('reads SenML CBOR', () => {
    const body = encodeSenmlCbor([{ bn: 'dev:', n: 'temp', u: 'Cel', v: 21.5 }]);
    assert.deepEqual(decodeMessage('application/senml+cbor', body, { now: NOW }), { records: resolved });
  });

  test('application/json: an array is SenML, an object plain values', () => {
    assert.deepEqual(decodeMessage('application/json', utf8(pack), { now: NOW }).records, resolved);
    assert.deepEqual(
      decodeMessage('application/json', utf8('{"bn":"dev:","temp":21.5}'), { now: NOW }).records,
      [{ n: 'dev:temp', t: NOW, v: 21.5 }],
    );
  });

  test('passes the limits on', () => {
    assert.throws(
      () => decodeMessage('application/json', utf8('{"a":1,"b":2}'), { now: NOW, maxRecords: 1 }),
      { code: 'SENML_TOO_LARGE' },
    );
    assert.throws(() => decodeMessage('application/senml+json', utf8(pack), { now: NOW, maxBytes: 10 }), {
      code: 'SENML_TOO_LARGE',
    });
  });

  test('messageFormat names the format or undefined', () => {
    assert.equal(messageFormat('application/senml+cbor; foo=bar'), 'senml+cbor');
    assert.equal(messageFormat('application/json;charset=UTF-8'), 'json');
    assert.equal(messageFormat('application/json; charset=utf-16'), undefined);
    assert.equal(messageFormat('application/octet-stream'), undefined);
  });
});

describe('encoders', () => {
  test('encodeResolvedJson writes n, u, t, value, s, ut in that order, compactly', () => {
    const bytes = encodeResolvedJson([
      { ut: 60, s: 3, v: 1, t: 1.7e9, u: 'W', n: 'a' },
      { vd: 'AQI', t: 1.7e9, n: 'b', u: undefined },
    ]);
    assert.equal(
      text(bytes),
      '[{"n":"a","u":"W","t":1700000000,"v":1,"s":3,"ut":60},{"n":"b","t":1700000000,"vd":"AQI"}]',
    );
  });

  test('encodeSenmlCbor uses integer labels and byte strings for vd', () => {
    const bytes = encodeSenmlCbor([{ n: 'a', vd: 'AQI' }]);
    // [{0: "a", 8: h'0102'}]
    assert.deepEqual([...bytes], [0x81, 0xa2, 0x00, 0x61, 0x61, 0x08, 0x42, 0x01, 0x02]);
    assert.deepEqual(parseSenmlCbor(bytes), [{ n: 'a', vd: 'AQI' }]);
    assert.throws(() => encodeSenmlCbor([{ n: 'a', vd: 'A=' }]), { code: 'SENML_BAD_TYPE' });
  });
});

test('SenML time and milliseconds convert both ways', () => {
  assert.equal(senmlTimeToMs(1.276020076001e9), 1276020076001);
  assert.equal(msToSenmlTime(1276020076001), 1276020076.001);
});
