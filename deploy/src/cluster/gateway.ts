// Test support: the shipped nginx gateway (deploy/nginx/) run by a real nginx in front of local
// `telly up` instances. Only what is deployment-specific is rewritten — the upstream servers, the
// listen addresses, the certificate paths — and each rewrite must find its line in the shipped
// file exactly as often as expected, so routing, upgrades and rate limits are tested as shipped.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSystemBinary, freePort, ManagedProcess } from '@telly/harness';

export const NGINX_DIR = fileURLToPath(new URL('../../nginx/', import.meta.url));
/** Debian's nginx loads the stream module as a dynamic module. */
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export interface Upstream {
  api: number;
  http: number;
  mqtt: number;
  mqttWs: number;
}

export interface Gateway extends AsyncDisposable {
  https: number;
  http: number;
  mqtts: number;
  /** The self-signed certificate the gateway presents (for `localhost` and 127.0.0.1), PEM. */
  ca: string;
  /** `nginx -t` of the config the gateway runs. */
  check(): string;
  stop(): Promise<void>;
}

/**
 * A shipped file of deploy/nginx with each `[from, to]` applied; every `from` must occur in it
 * exactly once, so a change to the file's shape fails here instead of testing something else.
 */
async function shipped(file: string, rewrites: [from: string, to: string][]): Promise<string> {
  let text = await readFile(join(NGINX_DIR, file), 'utf8');
  for (const [from, to] of rewrites) {
    const found = text.split(from).length - 1;
    if (found !== 1)
      throw new Error(`deploy/nginx/${file}: expected ${JSON.stringify(from)} once, found ${found}`);
    text = text.replace(from, to);
  }
  return text;
}

const servers = (ports: number[]) => ports.map((p) => `server 127.0.0.1:${p};`).join('\n  ');

/** Starts nginx with the shipped gateway config in front of `upstreams` (the `telly up` instances). */
export async function startGateway(upstreams: Upstream[]): Promise<Gateway> {
  const nginx = findSystemBinary('nginx', 'nginx');
  const dir = await mkdtemp(join(tmpdir(), 'telly-nginx-'));
  const ports = { https: await freePort(), http: await freePort(), mqtts: await freePort() };
  // a self-signed P-256 certificate for localhost and 127.0.0.1, valid a day: the clients' CA too
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'];
  const files = ['-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')];
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'];
  execFileSync('openssl', ['req', '-x509', ...newKey, ...subject, ...files], { stdio: 'ignore' });

  const upstreamServers = (pick: (u: Upstream) => number) => servers(upstreams.map(pick));
  const tls: [string, string][] = [
    ['/etc/nginx/tls/tls.crt', join(dir, 'tls.crt')],
    ['/etc/nginx/tls/tls.key', join(dir, 'tls.key')],
  ];
  const httpConf = await shipped('telly-http.conf', [
    ['server telly:4000;', upstreamServers((u) => u.api)],
    ['server telly:8080;', upstreamServers((u) => u.http)],
    ['server telly:8083;', upstreamServers((u) => u.mqttWs)],
    ['listen 80;', `listen 127.0.0.1:${ports.http};`],
    ['listen [::]:80;', ''],
    ['listen 443 ssl;', `listen 127.0.0.1:${ports.https} ssl;`],
    ['listen [::]:443 ssl;', ''],
    ...tls,
  ]);
  const streamConf = await shipped('telly-stream.conf', [
    ['server telly:1883;', upstreamServers((u) => u.mqtt)],
    ['listen 8883 ssl;', `listen 127.0.0.1:${ports.mqtts} ssl;`],
    ['listen [::]:8883 ssl;', ''],
    ...tls,
  ]);

  // the shipped nginx.conf, with this run's pid, logs and temp dirs
  const tempPaths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
    (t) => `${t}_temp_path ${join(dir, `${t}-temp`)};`,
  );
  let main = await shipped('nginx.conf', [
    ['pid /run/nginx.pid;', `pid ${join(dir, 'nginx.pid')};`],
    ['worker_processes auto;', 'worker_processes 1;'],
    ['error_log /dev/stderr warn;', `error_log ${join(dir, 'error.log')} warn;`],
    ['access_log /dev/stdout;', ['access_log off;', ...tempPaths].join('\n  ')],
    ['include telly-http.conf;', `include ${join(dir, 'telly-http.conf')};`],
    ['include telly-stream.conf;', `include ${join(dir, 'telly-stream.conf')};`],
  ]);
  if (existsSync(STREAM_MODULE)) main = `load_module ${STREAM_MODULE};\n${main}`;
  await writeFile(join(dir, 'telly-http.conf'), httpConf);
  await writeFile(join(dir, 'telly-stream.conf'), streamConf);
  const confFile = join(dir, 'nginx.conf');
  await writeFile(confFile, main);
  await mkdir(join(dir, 'logs'), { recursive: true });

  const check = () =>
    execFileSync(nginx, ['-t', '-c', confFile, '-p', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }) || 'ok';
  const process = new ManagedProcess({
    name: 'nginx',
    command: nginx,
    args: ['-c', confFile, '-p', dir, '-g', 'daemon off;'],
    stopSignal: 'SIGQUIT', // graceful: finish open requests
  });
  const listening = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  try {
    await process.launch(
      async () => (await Promise.all(Object.values(ports).map(listening))).every(Boolean),
      {
        timeoutMs: 15_000,
      },
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const ca = await readFile(join(dir, 'tls.crt'), 'utf8');
  const stop = async () => {
    await process.stop();
    await rm(dir, { recursive: true, force: true });
  };
  return { ...ports, ca, check, stop, [Symbol.asyncDispose]: stop };
}
