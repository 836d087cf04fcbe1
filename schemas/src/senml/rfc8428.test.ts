// Every example of RFC 8428 §5.1 and the CBOR dump of §6, resolved as the RFC says.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeMessage } from './decode.ts';
import { parseSenmlCbor, parseSenmlJson } from './parse.ts';
import { resolveSenml } from './resolve.ts';

/** The receiver's "now" for every example: 2023-11-14T22:13:20Z. */
const NOW = 1.7e9;
const resolveJson = (json: string) => resolveSenml(parseSenmlJson(json), { now: NOW });
const fromHex = (hex: string) =>
  Uint8Array.from(hex.replace(/\s+/g, '').match(/../g) ?? [], (h) => parseInt(h, 16));

const DEV = 'urn:dev:ow:10e2073a01080063';

describe('RFC 8428 §5.1 examples', () => {
  test('5.1.1 single data point: no time means "now"', () => {
    const pack = `[{"n":"${DEV}","u":"Cel","v":23.1}]`;
    assert.deepEqual(resolveJson(pack), [{ n: DEV, u: 'Cel', t: NOW, v: 23.1 }]);
  });

  test('5.1.2 multiple data points "now": base name concatenated', () => {
    const pack = `[{"bn":"${DEV}:","n":"voltage","u":"V","v":120.1},{"n":"current","u":"A","v":1.2}]`;
    assert.deepEqual(resolveJson(pack), [
      { n: `${DEV}:voltage`, u: 'V', t: NOW, v: 120.1 },
      { n: `${DEV}:current`, u: 'A', t: NOW, v: 1.2 },
    ]);
  });

  test('5.1.2 multiple data points over time: base time, base unit, version kept (§4.6)', () => {
    const bn = 'urn:dev:ow:10e2073a0108006:';
    const resolved = resolveJson(`[
      {"bn":"${bn}","bt":1.276020076001e+09,"bu":"A","bver":5,"n":"voltage","u":"V","v":120.1},
      {"n":"current","t":-5,"v":1.2},{"n":"current","t":-4,"v":1.3},{"n":"current","t":-3,"v":1.4},
      {"n":"current","t":-2,"v":1.5},{"n":"current","t":-1,"v":1.6},{"n":"current","v":1.7}]`);
    assert.deepEqual(resolved, [
      { bver: 5, n: `${bn}voltage`, u: 'V', t: 1.276020076001e9, v: 120.1 },
      { bver: 5, n: `${bn}current`, u: 'A', t: 1.276020071001e9, v: 1.2 },
      { bver: 5, n: `${bn}current`, u: 'A', t: 1.276020072001e9, v: 1.3 },
      { bver: 5, n: `${bn}current`, u: 'A', t: 1.276020073001e9, v: 1.4 },
      { bver: 5, n: `${bn}current`, u: 'A', t: 1.276020074001e9, v: 1.5 },
      { bver: 5, n: `${bn}current`, u: 'A', t: 1.276020075001e9, v: 1.6 },
      { bver: 5, n: `${bn}current`, u: 'A', t: 1.276020076001e9, v: 1.7 },
    ]);
  });

  test('5.1.2 SensML stream: records without a name take the base name', () => {
    const resolved = resolveJson(`[{"bn":"${DEV}","bt":1.320067464e+09,"bu":"%RH","v":21.2},
      {"t":10,"v":21.3},{"t":20,"v":21.4},{"t":30,"v":21.4},{"t":40,"v":21.5},
      {"t":50,"v":21.5},{"t":60,"v":21.5},{"t":70,"v":21.6},{"t":80,"v":21.7}]`);
    const values = [21.2, 21.3, 21.4, 21.4, 21.5, 21.5, 21.5, 21.6, 21.7];
    assert.deepEqual(
      resolved,
      values.map((v, i) => ({ n: DEV, u: '%RH', t: 1.320067464e9 + 10 * i, v })),
    );
  });

  test('5.1.3 multiple measurements resolve to exactly the records of 5.1.4', () => {
    const resolved = resolveJson(`[
      {"bn":"${DEV}","bt":1.320067464e+09,"bu":"%RH","v":20},
      {"u":"lon","v":24.30621},{"u":"lat","v":60.07965},
      {"t":60,"v":20.3},{"u":"lon","t":60,"v":24.30622},{"u":"lat","t":60,"v":60.07965},
      {"t":120,"v":20.7},{"u":"lon","t":120,"v":24.30623},{"u":"lat","t":120,"v":60.07966},
      {"u":"%EL","t":150,"v":98},
      {"t":180,"v":21.2},{"u":"lon","t":180,"v":24.30628},{"u":"lat","t":180,"v":60.07967}]`);
    // RFC 8428 §5.1.4, verbatim.
    const expected = JSON.parse(`[
      {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067464e+09,"v":20},
      {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067464e+09,"v":24.30621},
      {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067464e+09,"v":60.07965},
      {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067524e+09,"v":20.3},
      {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067524e+09,"v":24.30622},
      {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067524e+09,"v":60.07965},
      {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067584e+09,"v":20.7},
      {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067584e+09,"v":24.30623},
      {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067584e+09,"v":60.07966},
      {"n":"urn:dev:ow:10e2073a01080063","u":"%EL","t":1.320067614e+09,"v":98},
      {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067644e+09,"v":21.2},
      {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067644e+09,"v":24.30628},
      {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067644e+09,"v":60.07967}]`);
    assert.deepEqual(resolved, expected);
    // 5.1.4 is itself resolved: resolving it again changes nothing.
    assert.deepEqual(resolveSenml(expected, { now: NOW }), expected);
  });

  test('5.1.5 multiple data types: v, vs, vb and vd', () => {
    const resolved = resolveJson(`[{"bn":"${DEV}:","n":"temp","u":"Cel","v":23.1},
      {"n":"label","vs":"Machine Room"},{"n":"open","vb":false},{"n":"nfv-reader","vd":"aGkgCg"}]`);
    assert.deepEqual(resolved, [
      { n: `${DEV}:temp`, u: 'Cel', t: NOW, v: 23.1 },
      { n: `${DEV}:label`, t: NOW, vs: 'Machine Room' },
      { n: `${DEV}:open`, t: NOW, vb: false },
      { n: `${DEV}:nfv-reader`, t: NOW, vd: 'aGkgCg' },
    ]);
  });

  test('5.1.6 collection of resources: a new base name keeps the earlier base time', () => {
    const resolved = resolveJson(`[
      {"bn":"2001:db8::2/","bt":1.320078429e+09,"n":"temperature","u":"Cel","v":25.2},
      {"n":"humidity","u":"%RH","v":30},
      {"bn":"2001:db8::1/","n":"temperature","u":"Cel","v":12.3},
      {"n":"humidity","u":"%RH","v":67}]`);
    const t = 1.320078429e9;
    assert.deepEqual(resolved, [
      { n: '2001:db8::2/temperature', u: 'Cel', t, v: 25.2 },
      { n: '2001:db8::2/humidity', u: '%RH', t, v: 30 },
      { n: '2001:db8::1/temperature', u: 'Cel', t, v: 12.3 },
      { n: '2001:db8::1/humidity', u: '%RH', t, v: 67 },
    ]);
  });

  test('5.1.7 setting an actuator: a record with only a base name sets it and yields nothing', () => {
    const resolved = resolveJson(`[{"bn":"${DEV}:"},{"n":"temp","u":"Cel","v":23.1},
      {"n":"heat","u":"/","v":1},{"n":"fan","u":"/","v":0}]`);
    assert.deepEqual(resolved, [
      { n: `${DEV}:temp`, u: 'Cel', t: NOW, v: 23.1 },
      { n: `${DEV}:heat`, u: '/', t: NOW, v: 1 },
      { n: `${DEV}:fan`, u: '/', t: NOW, v: 0 },
    ]);
  });

  test('5.1.7 two lights on at an absolute time, with a base unit', () => {
    const resolved = resolveJson(
      '[{"bt":1.320078429e+09,"bu":"/","n":"2001:db8::3","v":1},{"n":"2001:db8::4","v":1}]',
    );
    assert.deepEqual(resolved, [
      { n: '2001:db8::3', u: '/', t: 1320078429, v: 1 },
      { n: '2001:db8::4', u: '/', t: 1320078429, v: 1 },
    ]);
  });

  test('5.1.7 two lights dimmed now, off 100 ms later: t is added to the base time', () => {
    const resolved = resolveJson(`[{"bt":1.320078429e+09,"bu":"/","n":"2001:db8::3","v":0.5},
      {"n":"2001:db8::4","v":0.5},{"n":"2001:db8::3","t":0.1,"v":0},{"n":"2001:db8::4","t":0.1,"v":0}]`);
    assert.deepEqual(resolved, [
      { n: '2001:db8::3', u: '/', t: 1320078429, v: 0.5 },
      { n: '2001:db8::4', u: '/', t: 1320078429, v: 0.5 },
      { n: '2001:db8::3', u: '/', t: 1320078429.1, v: 0 },
      { n: '2001:db8::4', u: '/', t: 1320078429.1, v: 0 },
    ]);
  });
});

describe('RFC 8428 §6 CBOR example', () => {
  // The hex dump of §6: the 5.1.2 "over time" pack with integer labels.
  const RFC_CBOR = fromHex(`
    87 a7 21 78 1b 75 72 6e 3a 64 65 76 3a 6f 77 3a 31 30 65 32 30 37 33 61 30 31 30 38 30 30 36 3a
    22 fb 41 d3 03 a1 5b 00 10 62 23 61 41 20 05 00 67 76 6f 6c 74 61 67 65 01 61 56 02 fb 40 5e 06
    66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 24 02 fb 3f f3 33 33 33 33 33 33 a3 00 67 63 75
    72 72 65 6e 74 06 23 02 fb 3f f4 cc cc cc cc cc cd a3 00 67 63 75 72 72 65 6e 74 06 22 02 fb 3f
    f6 66 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 21 02 f9 3e 00 a3 00 67 63 75 72 72 65 6e
    74 06 20 02 fb 3f f9 99 99 99 99 99 9a a3 00 67 63 75 72 72 65 6e 74 06 00 02 fb 3f fb 33 33 33
    33 33 33`);

  test('the dump is the 0xc3 bytes the RFC states', () => assert.equal(RFC_CBOR.length, 0xc3));

  test('parses to the records of its diagnostic notation', () => {
    const bn = 'urn:dev:ow:10e2073a0108006:';
    assert.deepEqual(parseSenmlCbor(RFC_CBOR), [
      { bn, bt: 1276020076.001, bu: 'A', bver: 5, n: 'voltage', u: 'V', v: 120.1 },
      { n: 'current', t: -5, v: 1.2 },
      { n: 'current', t: -4, v: 1.3 },
      { n: 'current', t: -3, v: 1.4 },
      { n: 'current', t: -2, v: 1.5 },
      { n: 'current', t: -1, v: 1.6 },
      { n: 'current', t: 0, v: 1.7 },
    ]);
  });

  test('resolves exactly like the same pack in JSON', () => {
    const json = `[{"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,"bu":"A","bver":5,
      "n":"voltage","u":"V","v":120.1},{"n":"current","t":-5,"v":1.2},{"n":"current","t":-4,"v":1.3},
      {"n":"current","t":-3,"v":1.4},{"n":"current","t":-2,"v":1.5},{"n":"current","t":-1,"v":1.6},
      {"n":"current","v":1.7}]`;
    const fromCbor = decodeMessage('application/senml+cbor', RFC_CBOR, { now: NOW }).records;
    assert.deepEqual(fromCbor, resolveJson(json));
    assert.equal(fromCbor[1]?.t, 1.276020071001e9);
  });
});

describe('the seed pack (Mainflux documentation example)', () => {
  const SEED =
    '[{"bn":"some-base-name:","bt":1.276020076001e+09,"bu":"A","bver":5,"n":"voltage","u":"V","v":120.1},{"n":"current","t":-5,"v":1.2},{"n":"current","t":-4,"v":1.3}]';
  const expected = [
    { bver: 5, n: 'some-base-name:voltage', u: 'V', t: 1.276020076001e9, v: 120.1 },
    { bver: 5, n: 'some-base-name:current', u: 'A', t: 1.276020071001e9, v: 1.2 },
    { bver: 5, n: 'some-base-name:current', u: 'A', t: 1.276020072001e9, v: 1.3 },
  ];

  for (const contentType of [
    'application/senml+json',
    'application/json',
    'application/senml+json; charset=utf-8',
  ]) {
    test(`resolves when sent as ${contentType}`, () => {
      const body = new TextEncoder().encode(SEED);
      assert.deepEqual(decodeMessage(contentType, body, { now: NOW }).records, expected);
    });
  }
});

describe('RFC 8428 §4.5.3 time', () => {
  const timeOf = (t: number, bt?: number) =>
    resolveSenml([{ n: 'x', v: 1, t, ...(bt === undefined ? {} : { bt }) }], { now: NOW })[0]?.t;

  test('values below 2**28 are relative to now, from 2**28 on absolute', () => {
    assert.equal(timeOf(0), NOW);
    assert.equal(timeOf(-60), NOW - 60);
    assert.equal(timeOf(30), NOW + 30);
    assert.equal(timeOf(2 ** 28 - 1), NOW + 2 ** 28 - 1);
    assert.equal(timeOf(2 ** 28), 2 ** 28);
    assert.equal(timeOf(1.7e9 + 0.25), 1.7e9 + 0.25);
  });

  test('the sum of base time and time decides, not each alone', () => {
    assert.equal(timeOf(-10, 2 ** 28 + 5), NOW + 2 ** 28 - 5);
    assert.equal(timeOf(10, 2 ** 28 - 5), 2 ** 28 + 5);
  });
});
