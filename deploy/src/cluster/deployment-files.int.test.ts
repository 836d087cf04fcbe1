// The deployment files, checked with the tools operators use, offline: the NATS cluster config run
// by three real nats-servers exactly as shipped, the Compose file through Debian's
// `docker-compose config`, the Kubernetes base and production overlay built by kustomize and
// validated against the Kubernetes schemas by kubernetes-validate, the Dockerfile's inputs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { findNatsServer, freePort, httpOk, ManagedProcess, waitFor } from '@telly/harness';
import { connectNats, ensureTopology } from '@telly/runtime';
import { STREAMS } from '@telly/schemas';
import { NATS_USERS, natsInboxPrefix, natsUserName } from '../up/nats-auth.ts';
import { passwordVariable } from '../up/nats-auth-config.ts';
import { KUBERNETES_VALIDATE, KUSTOMIZE, required } from './tools.ts';

const run = promisify(execFile);
const DEPLOY = fileURLToPath(new URL('../../', import.meta.url));
const ROOT = join(DEPLOY, '..');
const NATS_VERSION = (await readFile(join(DEPLOY, 'scripts/nats-server.version'), 'utf8'))
  .trim()
  .replace(/^v/, '');

/** Multi-document YAML as JSON, parsed by Debian's python3-yaml (docker-compose's own dependency). */
async function yamlDocuments(text: string): Promise<Record<string, unknown>[]> {
  const child = execFile('/usr/bin/python3', [
    '-c',
    'import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))',
  ]);
  child.stdin?.end(text);
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, 'python3-yaml parses the document');
  return JSON.parse(out) as Record<string, unknown>[];
}

test('the NATS cluster config, as shipped, forms a 3-server cluster with fsync always, the generated users, and R3 streams', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'telly-nats-cluster-'));
  const passwords = Object.fromEntries(NATS_USERS.map((u) => [passwordVariable(u), `pw-${u}-${Date.now()}`]));
  const ports = await Promise.all(
    [0, 1, 2].map(async () => ({
      client: await freePort(),
      route: await freePort(),
      monitor: await freePort(),
    })),
  );
  const routes = `[${ports.map((p) => `nats://127.0.0.1:${p.route}`).join(', ')}]`;
  const servers = ports.map(
    (p, i) =>
      new ManagedProcess({
        name: `nats-${i + 1}`,
        command: findNatsServer(),
        args: ['-c', join(DEPLOY, 'nats/cluster/nats-server.conf')],
        spawn: {
          env: {
            ...passwords,
            NATS_SYS_PASSWORD: 'sys-password',
            NATS_SERVER_NAME: `nats-${i + 1}`,
            NATS_ROUTES: routes,
            NATS_STORE_DIR: join(dir, `nats-${i + 1}`),
            NATS_CLIENT_LISTEN: `127.0.0.1:${p.client}`,
            NATS_CLUSTER_LISTEN: `127.0.0.1:${p.route}`,
            NATS_MONITOR_LISTEN: `127.0.0.1:${p.monitor}`,
          },
        },
      }),
  );
  try {
    await Promise.all(
      servers.map((s, i) =>
        s.launch(() => httpOk(`http://127.0.0.1:${ports[i]!.monitor}/healthz`), { timeoutMs: 60_000 }),
      ),
    );
    const varz = (await (await fetch(`http://127.0.0.1:${ports[0]!.monitor}/varz`)).json()) as {
      jetstream: { config: { sync_always?: boolean } };
      cluster: { name: string; urls: string[] };
    };
    assert.equal(varz.jetstream.config.sync_always, true, 'sync_interval: always');
    assert.equal(varz.cluster.name, 'telly');
    assert.equal(varz.cluster.urls.length, 3);

    const as = (user: (typeof NATS_USERS)[number]) => ({
      servers: ports.map((p) => `nats://127.0.0.1:${p.client}`),
      user: natsUserName(user),
      pass: passwords[passwordVariable(user)]!,
      inboxPrefix: natsInboxPrefix(user),
    });
    // the operator creates the topology with 3 replicas; each stream gets a leader and two followers
    const admin = await connectNats(as('admin'), 'deployment-files-test');
    try {
      const jsm = await jetstreamManager(admin);
      await waitFor(
        () =>
          ensureTopology(admin, jsm, { replicas: 3 }).then(
            () => true,
            () => false,
          ),
        {
          timeoutMs: 30_000,
          what: 'the R3 topology created',
        },
      );
      const messages = await jsm.streams.info(STREAMS.MESSAGES.name);
      assert.equal(messages.config.num_replicas, 3);
      assert.equal(messages.cluster?.replicas?.length, 2);
    } finally {
      await admin.close();
    }
    // a component connects as its own user, and may do only what nats-auth.ts grants it
    const http = await connectNats(as('http'), 'deployment-files-test');
    try {
      await jetstreamManager(http); // $JS.API.INFO: allowed
      const denied = await http.request('$JS.API.STREAM.DELETE.MESSAGES', '', { timeout: 2_000 }).then(
        () => 'allowed',
        (err: Error) => err.message,
      );
      assert.match(denied, /permission/i, 'the HTTP bridge may not delete a stream');
    } finally {
      await http.close();
    }
    await assert.rejects(
      connectNats({ ...as('api'), pass: 'wrong' }, 'deployment-files-test'),
      /authorization|authentication/i,
    );
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  }
});

test('the Compose file passes docker-compose config: a 3-server cluster, two replicas of telly on it, only the gateway published', async () => {
  const secrets = await mkdtemp(join(tmpdir(), 'telly-compose-'));
  try {
    await run(process.execPath, [join(DEPLOY, 'compose/telly-env.ts'), secrets]);
    const { stdout } = await run(
      'docker-compose',
      ['-f', join(DEPLOY, 'compose/docker-compose.yml'), 'config'],
      {
        env: { ...process.env, TELLY_SECRETS_DIR: secrets },
      },
    );
    const [config] = (await yamlDocuments(stdout)) as [
      {
        services: Record<
          string,
          {
            image?: string;
            environment?: Record<string, string>;
            ports?: unknown[];
            deploy?: { replicas?: number };
            volumes?: string[];
          }
        >;
      },
    ];
    const { services } = config;
    assert.deepEqual(Object.keys(services).sort(), [
      'gateway',
      'nats-1',
      'nats-2',
      'nats-3',
      'postgres',
      'telly',
    ]);
    const telly = services.telly!;
    assert.ok((telly.deploy?.replicas ?? 1) >= 2, 'two replicas of every component');
    assert.equal(telly.environment?.TELLY_STREAM_REPLICAS, '3');
    assert.equal(telly.environment?.NATS_URL?.split(',').length, 3);
    for (const name of ['nats-1', 'nats-2', 'nats-3']) {
      const nats = services[name]!;
      assert.equal(nats.image, `nats:${NATS_VERSION}-alpine`, 'the pinned nats-server');
      assert.equal(nats.environment?.NATS_SERVER_NAME, name);
      assert.ok(nats.volumes?.some((v) => v.startsWith(join(DEPLOY, 'nats/cluster/nats-server.conf'))));
      assert.ok(nats.volumes?.some((v) => v.startsWith(join(DEPLOY, 'nats/telly-permissions.conf'))));
      // the servers hold the users' passwords, never the database's or the signing key
      assert.equal(nats.environment?.DATABASE_URL, undefined);
      assert.equal(nats.environment?.TELLY_JWT_PRIVATE_KEY, undefined);
    }
    for (const user of NATS_USERS) {
      const variable = passwordVariable(user);
      assert.ok(telly.environment?.[variable], `telly gets ${variable}`);
      assert.equal(services['nats-1']!.environment?.[variable], telly.environment?.[variable]);
    }
    assert.ok(telly.environment?.DATABASE_URL?.startsWith('postgres://telly:'));
    assert.deepEqual(
      Object.entries(services)
        .filter(([, s]) => (s.ports ?? []).length > 0)
        .map(([name]) => name),
      ['gateway'],
      'only the gateway is published',
    );
  } finally {
    await rm(secrets, { recursive: true, force: true });
  }
});

test('the Kubernetes base and production overlay build with kustomize and validate against the Kubernetes schemas', async () => {
  const kustomize = required(KUSTOMIZE, 'kustomize');
  const validate = required(KUBERNETES_VALIDATE, 'kubernetes-validate');
  const dir = await mkdtemp(join(tmpdir(), 'telly-k8s-'));
  try {
    for (const target of ['base', 'overlays/production']) {
      const { stdout } = await run(kustomize, ['build', join(DEPLOY, 'k8s', target)], {
        maxBuffer: 16 * 1024 * 1024,
      });
      const file = join(dir, `${target.replace('/', '-')}.yaml`);
      await writeFile(file, stdout);
      const checked = await run(validate, ['--strict', file]).catch(
        (err: { stdout?: string; stderr?: string }) => {
          assert.fail(`kubernetes-validate ${target}:\n${err.stdout}\n${err.stderr}`);
        },
      );
      assert.doesNotMatch(checked.stdout, /ERROR|failed/i, checked.stdout);

      const docs = (await yamlDocuments(stdout)) as {
        kind: string;
        metadata: { name: string; namespace?: string };
        spec?: Record<string, unknown>;
        data?: Record<string, string>;
      }[];
      const find = (kind: string, name: string) => {
        const doc = docs.find((d) => d.kind === kind && d.metadata.name.startsWith(name));
        assert.ok(doc, `${target}: ${kind} ${name}`);
        return doc;
      };
      const nats = find('StatefulSet', 'nats').spec as {
        replicas: number;
        template: { spec: { containers: { image: string }[] } };
      };
      assert.equal(nats.replicas, 3);
      assert.equal(nats.template.spec.containers[0]?.image, `nats:${NATS_VERSION}-alpine`);
      const telly = find('Deployment', 'telly').spec as {
        replicas: number;
        template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
      };
      assert.ok(telly.replicas >= 2);
      const env = Object.fromEntries(telly.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
      assert.equal(env.TELLY_STREAM_REPLICAS, '3');
      assert.equal(env.NATS_URL?.split(',').length, 3);
      // the cluster and gateway configs are the repository's files themselves, not copies
      const natsConfig = find('ConfigMap', 'nats-config').data!;
      assert.equal(
        natsConfig['nats-server.conf'],
        await readFile(join(DEPLOY, 'nats/cluster/nats-server.conf'), 'utf8'),
      );
      assert.equal(
        natsConfig['telly-permissions.conf'],
        await readFile(join(DEPLOY, 'nats/telly-permissions.conf'), 'utf8'),
      );
      const gateway = find('ConfigMap', 'gateway-config').data!;
      assert.equal(gateway['telly-http.conf'], await readFile(join(DEPLOY, 'nginx/telly-http.conf'), 'utf8'));
      if (target === 'overlays/production') {
        assert.ok(docs.filter((d) => d.kind !== 'Namespace').every((d) => d.metadata.namespace === 'telly'));
        assert.ok(telly.replicas >= 3);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the Dockerfile builds on the pinned Node and nats-server, from files that exist', async () => {
  const dockerfile = await readFile(join(DEPLOY, 'Dockerfile'), 'utf8');
  const node = (await readFile(join(ROOT, '.node-version'), 'utf8')).trim();
  const from = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({
    image: m[1]!,
    as: m[2],
  }));
  assert.ok(from.length >= 2, 'multi-stage');
  const args = Object.fromEntries(
    [...dockerfile.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map((m) => [m[1]!, m[2]!]),
  );
  assert.equal(args.NODE_VERSION, node, 'the Node of .node-version');
  assert.equal(args.NATS_SERVER_VERSION, `v${NATS_VERSION}`, 'the nats-server of nats-server.version');
  for (const m of dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)) {
    const parts = m[1]!.split(/\s+/).filter((p) => !p.startsWith('--'));
    for (const source of parts.slice(0, -1)) {
      if (source.includes('*')) continue;
      assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: exists in the repository`);
    }
  }
  assert.match(dockerfile, /^USER\s+(?!root)\S+/m, 'runs as a user other than root');
});
