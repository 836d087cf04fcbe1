// Builds the dashboard: one esbuild bundle (split, so pages load their heavy parts on demand),
// file names carrying a content hash (cached for good), each file also brotli- and
// gzip-compressed, and a manifest the API serves from.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { build } from 'esbuild';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

const SRC = fileURLToPath(new URL('../app/', import.meta.url));
/** Where `telly up`'s API looks for the dashboard (`TELLY_WEB_DIR` overrides). */
export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../dist/app/', import.meta.url));

/** One served file: its path below `/`, its type, and its sizes as stored and compressed. */
export interface ManifestFile {
  type: string;
  bytes: number;
  gzip: number;
  br: number;
}

export interface Manifest {
  /** Path below the root (`index.html`, `assets/main-XXXX.js`) → the file. */
  files: Record<string, ManifestFile>;
  /** What a first visit downloads: the page, its entry script and its styles (and their imports). */
  firstLoad: { files: string[]; bytes: number; gzip: number; br: number };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};
const typeOf = (path: string) => TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';

/** The page: the entry's script and style by their hashed names; nothing inline (the CSP forbids it). */
const page = (script: string, style: string, preload: string[]) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="color-scheme" content="light dark" />
    <title>Telly</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/${style}" />
${preload.map((p) => `    <link rel="modulepreload" href="/${p}" />`).join('\n')}
    <script type="module" src="/${script}"></script>
  </head>
  <body>
    <noscript>The Telly dashboard needs JavaScript. The GraphQL API is at /graphql.</noscript>
    <div id="app"></div>
  </body>
</html>
`;

/** Builds into `outDir` (emptied first) and returns the manifest it wrote there. */
export async function buildDashboard(outDir = DEFAULT_OUT_DIR, { minify = true } = {}): Promise<Manifest> {
  await rm(outDir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { main: join(SRC, 'main.tsx') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox113', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    outdir: join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    assetNames: '[name]-[hash]',
    write: true,
    logLevel: 'warning',
  });
  const outputs = result.metafile.outputs;
  const rel = (path: string) => relative(outDir, path).split('\\').join('/');
  const entry = Object.entries(outputs).find(([, o]) => o.entryPoint?.endsWith('main.tsx'));
  if (!entry) throw new Error('esbuild produced no entry script for main.tsx');
  const [entryPath, entryOut] = entry;
  if (!entryOut.cssBundle) throw new Error('esbuild produced no stylesheet for main.tsx');
  // what the entry imports statically is loaded at once too: preload it
  const staticImports = entryOut.imports.filter((i) => i.kind === 'import-statement').map((i) => rel(i.path));
  const script = rel(entryPath);
  const style = rel(entryOut.cssBundle);
  await writeFile(join(outDir, 'index.html'), page(script, style, staticImports));

  const files: Record<string, ManifestFile> = {};
  for (const path of [...Object.keys(outputs).map(rel), 'index.html']) {
    const body = await readFile(join(outDir, path));
    const [br, gzipped] = await Promise.all([
      brotli(body, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      }),
      gz(body, { level: 9 }),
    ]);
    await writeFile(join(outDir, `${path}.br`), br);
    await writeFile(join(outDir, `${path}.gz`), gzipped);
    files[path] = { type: typeOf(path), bytes: body.length, gzip: gzipped.length, br: br.length };
  }
  const first = ['index.html', script, style, ...staticImports];
  const sum = (key: 'bytes' | 'gzip' | 'br') => first.reduce((n, f) => n + (files[f]?.[key] ?? 0), 0);
  const manifest: Manifest = {
    files,
    firstLoad: { files: first, bytes: sum('bytes'), gzip: sum('gzip'), br: sum('br') },
  };
  await mkdir(dirname(join(outDir, 'manifest.json')), { recursive: true });
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
