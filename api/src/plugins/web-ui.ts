import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envPort } from '@telly/runtime';
import type { Plugin } from 'graphql-yoga';

/** Where `npm run build -w @telly/web` writes the dashboard, in this repository. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/dist/app/', import.meta.url));
/** The bridges' default ports (bridges/mqtt, bridges/http), for the dashboard's device QR codes. */
const DEFAULT_MQTT_PORT = 1883;
const DEFAULT_HTTP_PORT = 8080;

export interface WebUiConfig {
  /** The built dashboard (`TELLY_WEB_DIR`). @default DEFAULT_WEB_DIR */
  dir: string;
  /** Where devices connect, shown in the dashboard (`TELLY_MQTT_PORT`, `TELLY_HTTP_PORT`). */
  devices: { mqttPort: number; httpPort: number };
}

/** The dashboard's settings from the environment `telly up` gives the API. */
export function parseWebUiConfig(env: NodeJS.ProcessEnv): WebUiConfig {
  return {
    dir: env.TELLY_WEB_DIR || DEFAULT_WEB_DIR,
    devices: {
      mqttPort: envPort(env, 'TELLY_MQTT_PORT', DEFAULT_MQTT_PORT),
      httpPort: envPort(env, 'TELLY_HTTP_PORT', DEFAULT_HTTP_PORT),
    },
  };
}

/** The part of web/src/build/build.ts's manifest read here. */
interface Manifest {
  files: Record<string, { type: string }>;
}

interface Asset {
  type: string;
  etag: string;
  /** identity, br, gzip */
  bodies: Map<string, Uint8Array<ArrayBuffer>>;
}

const ENCODINGS = ['br', 'gzip'] as const;

/**
 * Same origin only; nothing inline. Styles set from script (uPlot, the QR code's size) go
 * through the CSSOM, which `style-src 'self'` allows.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

async function load(dir: string): Promise<Map<string, Asset>> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const assets = new Map<string, Asset>();
  for (const [path, { type }] of Object.entries(manifest.files)) {
    const bodies = new Map<string, Uint8Array<ArrayBuffer>>();
    const plain = new Uint8Array(await readFile(join(dir, path)));
    bodies.set('identity', plain);
    for (const encoding of ENCODINGS) {
      const compressed = await readFile(join(dir, `${path}.${encoding === 'br' ? 'br' : 'gz'}`)).catch(
        () => undefined,
      );
      if (compressed) bodies.set(encoding, new Uint8Array(compressed));
    }
    const etag = `"${createHash('sha256').update(plain).digest('base64url').slice(0, 16)}"`;
    assets.set(path, { type, etag, bodies });
  }
  return assets;
}

/** The best encoding the client accepts (`accept-encoding`, q-values honoured) that we have. */
export function chooseEncoding(header: string | null, available: ReadonlySet<string>): string {
  const accepted = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name, q ? Number(q.slice(2)) || 0 : 1);
  }
  const weight = (e: string) => accepted.get(e) ?? accepted.get('*') ?? 0;
  for (const encoding of ENCODINGS) if (available.has(encoding) && weight(encoding) > 0) return encoding;
  return 'identity';
}

/**
 * The web dashboard at `/`: its page (`/`, `/index.html`, revalidated on every visit), its
 * hashed assets (`/assets/…`, cached for good) brotli- or gzip-compressed as built, and
 * `/config.json` (where devices connect). Read from `config.dir` on first request; when it was
 * never built, `/` says how to build it.
 */
export function useWebUi(config: WebUiConfig): Plugin {
  let assets: Promise<Map<string, Asset>> | undefined;
  const assetsOnce = () => {
    assets ??= load(config.dir).catch((err: unknown) => {
      assets = undefined; // built later: read it then
      throw err;
    });
    return assets;
  };
  const configBody = JSON.stringify({ devices: config.devices });
  return {
    async onRequest({ request, url, fetchAPI, endResponse }) {
      const path = url.pathname;
      const isPage = path === '/' || path === '/index.html';
      const isAsset = path.startsWith('/assets/');
      if (!isPage && !isAsset && path !== '/config.json') return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
      }
      if (path === '/config.json') {
        return endResponse(
          new fetchAPI.Response(configBody, {
            headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' },
          }),
        );
      }
      let files: Map<string, Asset>;
      try {
        files = await assetsOnce();
      } catch {
        return endResponse(
          new fetchAPI.Response(
            isPage
              ? '<!doctype html><title>Telly</title><p>The dashboard is not built: run <code>npm run build -w @telly/web</code> (or <code>npm start</code>), then reload. GraphQL is at <a href="/graphql">/graphql</a>.</p>'
              : null,
            {
              status: 503,
              headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
            },
          ),
        );
      }
      const asset = files.get(isPage ? 'index.html' : path.slice(1));
      if (!asset) return endResponse(new fetchAPI.Response(null, { status: 404 }));
      const headers: Record<string, string> = {
        'content-type': asset.type,
        vary: 'accept-encoding',
        etag: asset.etag,
        'cache-control': isPage ? 'no-cache' : 'public, max-age=31536000, immutable',
        ...(isPage ? PAGE_HEADERS : { 'x-content-type-options': 'nosniff' }),
      };
      if (request.headers.get('if-none-match') === asset.etag) {
        return endResponse(new fetchAPI.Response(null, { status: 304, headers }));
      }
      const encoding = chooseEncoding(request.headers.get('accept-encoding'), new Set(asset.bodies.keys()));
      const body = asset.bodies.get(encoding)!;
      if (encoding !== 'identity') headers['content-encoding'] = encoding;
      headers['content-length'] = String(body.byteLength);
      endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : body, { status: 200, headers }));
    },
  };
}
