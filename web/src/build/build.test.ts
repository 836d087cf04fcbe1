import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { buildDashboard, type Manifest } from './build.ts';

/** The issue's budget for what a first visit downloads, compressed. */
const FIRST_LOAD_BUDGET = 250 * 1024;

let dir: string;
let manifest: Manifest;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'telly-web-build-'));
  manifest = await buildDashboard(dir);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('the dashboard build', () => {
  it('names every asset by its content hash, and the page loads the entry by that name', async () => {
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    const assets = Object.keys(manifest.files).filter((f) => f !== 'index.html');
    assert.ok(assets.length > 2);
    for (const asset of assets) assert.match(asset, /^assets\/(main|chunk)-[A-Z0-9]{8}\.(js|css)$/);
    const referenced = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(referenced.sort(), manifest.firstLoad.files.filter((f) => f !== 'index.html').sort());
    for (const file of referenced) assert.ok(manifest.files[file!], `${file} is in the manifest`);
  });

  it('loads nothing from elsewhere: no CDN, nothing inline for the CSP to refuse', async () => {
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
    assert.doesNotMatch(html, /<script>(?!<\/script>)|<style|style="/);
    for (const file of Object.keys(manifest.files).filter((f) => f.endsWith('.js'))) {
      const js = await readFile(join(dir, file), 'utf8');
      assert.doesNotMatch(
        js,
        /import\s*\(\s*["']https?:|from\s*["']https?:/,
        `${file} imports from the network`,
      );
    }
  });

  it('writes each file brotli- and gzip-compressed, decompressing to the same bytes', async () => {
    for (const [file, sizes] of Object.entries(manifest.files)) {
      const plain = await readFile(join(dir, file));
      assert.equal(plain.length, sizes.bytes);
      const br = await readFile(join(dir, `${file}.br`));
      const gz = await readFile(join(dir, `${file}.gz`));
      assert.equal(br.length, sizes.br);
      assert.equal(gz.length, sizes.gzip);
      assert.ok(brotliDecompressSync(br).equals(plain), `${file}.br`);
      assert.ok(gunzipSync(gz).equals(plain), `${file}.gz`);
    }
  });

  it(`keeps the first load within ${FIRST_LOAD_BUDGET / 1024} KB compressed, and every page together too`, () => {
    assert.ok(
      manifest.firstLoad.gzip <= FIRST_LOAD_BUDGET,
      `first load ${manifest.firstLoad.gzip} bytes gzip`,
    );
    const all = Object.values(manifest.files).reduce((n, f) => n + f.gzip, 0);
    assert.ok(all <= FIRST_LOAD_BUDGET, `all assets ${all} bytes gzip`);
  });

  it('puts the charts and the QR code in chunks of their own, loaded by the pages that draw them', async () => {
    const first = await Promise.all(
      manifest.firstLoad.files.filter((f) => f.endsWith('.js')).map((f) => readFile(join(dir, f), 'utf8')),
    );
    // uPlot's and qrcode's own error texts are not in what the first visit downloads
    assert.ok(
      first.every((js) => !js.includes('uplot') && !js.includes('Invalid QR')),
      'no chart or QR code up front',
    );
  });
});
