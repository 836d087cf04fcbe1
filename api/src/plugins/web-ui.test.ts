import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { createSchema, createYoga } from 'graphql-yoga';
import { chooseEncoding, parseWebUiConfig, useWebUi } from './web-ui.ts';

const PAGE = '<!doctype html><title>Telly</title><script type="module" src="/assets/main-AAAA.js"></script>';
const SCRIPT = 'console.log("dashboard");'.repeat(20);

let dir: string;
const app = (webDir: string) =>
  createYoga({
    schema: createSchema({ typeDefs: 'type Query { ok: Boolean }' }),
    plugins: [useWebUi({ dir: webDir, devices: { mqttPort: 1999, httpPort: 8999 } })],
    logging: false,
  });

async function writeBuild(into: string) {
  await mkdir(join(into, 'assets'), { recursive: true });
  const files = { 'index.html': PAGE, 'assets/main-AAAA.js': SCRIPT };
  for (const [path, body] of Object.entries(files)) {
    await writeFile(join(into, path), body);
    await writeFile(join(into, `${path}.br`), brotliCompressSync(body));
    await writeFile(join(into, `${path}.gz`), gzipSync(body));
  }
  const manifest = {
    files: {
      'index.html': { type: 'text/html; charset=utf-8' },
      'assets/main-AAAA.js': { type: 'text/javascript; charset=utf-8' },
    },
  };
  await writeFile(join(into, 'manifest.json'), JSON.stringify(manifest));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'telly-web-ui-'));
  await writeBuild(dir);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('the web dashboard route', () => {
  it('serves the page at / for every visit to revalidate, with a CSP that allows nothing inline', async () => {
    const res = await app(dir).fetch('http://x/', { headers: { 'accept-encoding': 'identity' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(res.headers.get('content-security-policy')!, /script-src 'self';/);
    assert.doesNotMatch(res.headers.get('content-security-policy')!, /unsafe-inline/);
    assert.equal(res.headers.get('content-encoding'), null);
    assert.equal(await res.text(), PAGE);
  });

  it('serves hashed assets brotli- or gzip-compressed as the client accepts, cached for good', async () => {
    const br = await app(dir).fetch('http://x/assets/main-AAAA.js', {
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    assert.equal(br.status, 200);
    assert.equal(br.headers.get('content-encoding'), 'br');
    assert.equal(br.headers.get('vary'), 'accept-encoding');
    assert.equal(br.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const brBody = Buffer.from(await br.arrayBuffer());
    assert.equal(Number(br.headers.get('content-length')), brBody.length);
    assert.equal(brotliDecompressSync(brBody).toString(), SCRIPT);

    const gz = await app(dir).fetch('http://x/assets/main-AAAA.js', {
      headers: { 'accept-encoding': 'gzip' },
    });
    assert.equal(gz.headers.get('content-encoding'), 'gzip');
    assert.equal(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString(), SCRIPT);

    const none = await app(dir).fetch('http://x/assets/main-AAAA.js', {
      headers: { 'accept-encoding': 'br;q=0, gzip;q=0' },
    });
    assert.equal(none.headers.get('content-encoding'), null);
    assert.equal(await none.text(), SCRIPT);
  });

  it('answers a known version with 304, an unknown asset with 404 and a write with 405', async () => {
    const first = await app(dir).fetch('http://x/');
    const etag = first.headers.get('etag')!;
    assert.ok(etag);
    const again = await app(dir).fetch('http://x/', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal((await app(dir).fetch('http://x/assets/nope.js')).status, 404);
    assert.equal((await app(dir).fetch('http://x/assets/../manifest.json')).status, 404);
    const post = await app(dir).fetch('http://x/', { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('leaves other paths to the rest of the API', async () => {
    const res = await app(dir).fetch('http://x/graphql?query=%7Bok%7D');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { data: { ok: null } });
  });

  it('says where devices connect at /config.json', async () => {
    const res = await app(dir).fetch('http://x/config.json');
    assert.deepEqual(await res.json(), { devices: { mqttPort: 1999, httpPort: 8999 } });
  });

  it('says how to build the dashboard until it is built, then serves it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'telly-web-ui-empty-'));
    try {
      const served = app(empty);
      const before = await served.fetch('http://x/');
      assert.equal(before.status, 503);
      assert.match(await before.text(), /npm run build -w @telly\/web/);
      await writeBuild(empty);
      const built = await served.fetch('http://x/', { headers: { 'accept-encoding': 'identity' } });
      assert.equal(built.status, 200);
      assert.equal(await built.text(), PAGE);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('chooseEncoding', () => {
  const both = new Set(['identity', 'br', 'gzip']);
  it('prefers brotli, honours q=0 and *, and falls back to identity', () => {
    assert.equal(chooseEncoding('gzip, br', both), 'br');
    assert.equal(chooseEncoding('br;q=0, gzip', both), 'gzip');
    assert.equal(chooseEncoding('*', both), 'br');
    assert.equal(chooseEncoding('*;q=0', both), 'identity');
    assert.equal(chooseEncoding(null, both), 'identity');
    assert.equal(chooseEncoding('br', new Set(['identity'])), 'identity');
  });
});

describe('parseWebUiConfig', () => {
  it('reads the build dir and the device ports, refusing a bad port by name', () => {
    assert.deepEqual(parseWebUiConfig({ TELLY_WEB_DIR: '/srv/web', TELLY_MQTT_PORT: '1884' }), {
      dir: '/srv/web',
      devices: { mqttPort: 1884, httpPort: 8080 },
    });
    assert.throws(() => parseWebUiConfig({ TELLY_HTTP_PORT: 'eighty' }), /TELLY_HTTP_PORT/);
  });
});
