// The managed nats-server's authorization, as telly up renders it (nats-auth.ts): no anonymous
// client, and each component's user can do what it needs and nothing the issue found abused.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { parseApiConfig } from '@telly/api';
import { requestedProjection, scheduledProjection, statusProjection } from '@telly/commands';
import { DEVICES_EVENTS, DEVICES_MESSAGES } from '@telly/devices';
import { NatsServer, waitFor } from '@telly/harness';
import { REPLAY_REQUEST_SUBJECT, replayCancelSubject, replayReplySubject } from '@telly/inference';
import { REGISTRY_PROJECTION } from '@telly/registry';
import { ensureTopology, JobQueue } from '@telly/runtime';
import { createEvent, encodeEvent, KV_BUCKETS, registrySubject, STREAMS } from '@telly/schemas';
import { TELEMETRY_INFLUX } from '@telly/telemetry-influx';
import { TELEMETRY_PG } from '@telly/telemetry-pg';
import mqtt from 'mqtt';
import type pg from 'pg';
import { provisionDevice, startPlatform } from '../testing/platform.ts';
import { COMPONENTS } from './components.ts';
import { DURABLES, NATS_USERS, type NatsUser, natsInboxPrefix, natsUserName } from './nats-auth.ts';
import {
  PERMISSIONS_SNIPPET,
  passwordVariable,
  renderManagedAuthorization,
  renderPermissionsSnippet,
} from './nats-auth-config.ts';
import { natsPasswords } from './secrets.ts';

let dataDir: string;
let server: NatsServer;
let passwords: Record<NatsUser, string>;
const open: NatsConnection[] = [];

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'telly-nats-auth-'));
  passwords = await natsPasswords(dataDir);
  server = await NatsServer.start({ extraConfig: renderManagedAuthorization(passwords), monitoring: false });
  const admin = await as('admin');
  await ensureTopology(admin, await jetstreamManager(admin));
});

after(async () => {
  await Promise.all(open.map((nc) => nc.close()));
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function as(user: NatsUser): Promise<NatsConnection> {
  const nc = await connect({
    servers: server.url,
    user: natsUserName(user),
    pass: passwords[user],
    inboxPrefix: natsInboxPrefix(user),
  });
  open.push(nc);
  return nc;
}

const TENANT = '0197a0a0-0000-7000-8000-000000000001';
const THING = '0197a0a0-0000-7000-8000-000000000002';

let events = 100;

/** Appends a registry event as `user`; resolves to whether REGISTRY stored it. */
async function appendRegistryEvent(user: NatsUser): Promise<boolean> {
  const nc = await as(user);
  const event = createEvent(
    'tenant.created',
    { tenantId: TENANT, data: { name: `forged by ${user}` } },
    { id: `0197a0a0-0000-7000-8000-${String(++events).padStart(12, '0')}`, now: Date.now() },
  );
  const subject = registrySubject({ tenant: TENANT, entity: 'tenant', id: TENANT });
  return jetstream(nc, { timeout: 2_000 })
    .publish(subject, encodeEvent(event), { msgID: event.id })
    .then(
      () => true,
      () => false,
    );
}

async function lastSeq(stream: string): Promise<number> {
  const admin = await as('admin');
  return (await (await jetstreamManager(admin)).streams.info(stream)).state.last_seq;
}

test('an anonymous client, or one with a wrong password, is refused', async () => {
  await assert.rejects(connect({ servers: server.url, reconnect: false }), /authoriz|auth/i);
  await assert.rejects(
    connect({ servers: server.url, user: natsUserName('mqtt'), pass: 'guess', reconnect: false }),
    /authoriz|auth/i,
  );
});

test('only the API user appends registry events; no other component credential can', async () => {
  const before = await lastSeq(STREAMS.REGISTRY.name);
  for (const user of NATS_USERS.filter((u) => u !== 'api' && u !== 'admin')) {
    assert.equal(await appendRegistryEvent(user), false, `${user} appended a registry event`);
  }
  assert.equal(await lastSeq(STREAMS.REGISTRY.name), before, 'REGISTRY unchanged');
  assert.equal(await appendRegistryEvent('api'), true);
  assert.equal(await lastSeq(STREAMS.REGISTRY.name), before + 1);
});

test('a bridge cannot write the credentials bucket or read REGISTRY, but reads credentials', async () => {
  const adminKv = await new Kvm(await as('admin')).open(KV_BUCKETS.CREDENTIALS);
  for (const user of ['mqtt', 'http', 'coap'] as const) {
    const nc = await as(user);
    const kv = await new Kvm(nc).open(KV_BUCKETS.CREDENTIALS);
    await assert.rejects(kv.put(`keys.${'ab'.repeat(32)}`, JSON.stringify({ thingId: THING })), user);
    assert.equal(await adminKv.get(`keys.${'ab'.repeat(32)}`), null, `${user} wrote a credential`);
    const jsm = await jetstreamManager(nc);
    await assert.rejects(
      jsm.direct.getMessage(STREAMS.REGISTRY.name, { last_by_subj: 'reg.>' }),
      `${user} read REGISTRY by direct get`,
    );
    await assert.rejects(
      jetstream(nc).consumers.get(STREAMS.REGISTRY.name, { deliver_policy: DeliverPolicy.All }),
      `${user} opened a consumer on REGISTRY`,
    );
    await assert.rejects(jsm.streams.purge(STREAMS.MESSAGES.name), `${user} purged MESSAGES`);
  }
  // what the registry projection does, and what the bridges then see
  const registryKv = await new Kvm(await as('registry')).open(KV_BUCKETS.CREDENTIALS);
  await registryKv.put(`keys.${'cd'.repeat(32)}`, JSON.stringify({ thingId: THING }));
  const bridgeKv = await new Kvm(await as('http')).open(KV_BUCKETS.CREDENTIALS);
  assert.equal((await bridgeKv.get(`keys.${'cd'.repeat(32)}`))?.json<{ thingId: string }>().thingId, THING);
});

test('device messages come only from the bridges and inference: the API and other processors cannot publish msg.>', async () => {
  const subject = `msg.${TENANT}.c1.${THING}`;
  for (const user of NATS_USERS.filter((u) => u !== 'admin')) {
    const stored = await jetstream(await as(user), { timeout: 2_000 })
      .publish(subject, '{"v":1}')
      .then(
        () => true,
        () => false,
      );
    // the protocol bridges, and inference, whose results are the thing's own telemetry points
    const mayPublish = ['mqtt', 'http', 'coap', 'kafka', 'inference'];
    assert.equal(stored, mayPublish.includes(user), `${user} publishing a device message`);
  }
});

test('a processor uses its own durable; a bridge cannot take a processor durable’s messages', async () => {
  const nc = await as('telemetry-pg');
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(STREAMS.MESSAGES.name, {
    durable_name: TELEMETRY_PG,
    ack_policy: AckPolicy.Explicit,
    filter_subjects: ['msg.>'],
  });
  const consumer = await jetstream(nc).consumers.get(STREAMS.MESSAGES.name, TELEMETRY_PG);
  const fetched = await consumer.fetch({ max_messages: 10, expires: 1_000 });
  let acked = 0;
  for await (const m of fetched) {
    await m.ackAck();
    acked++;
  }
  assert.ok(acked >= 1, 'the bridge-published message reached telemetry-pg');
  const mqtt = await as('mqtt');
  await assert.rejects(jetstream(mqtt).consumers.get(STREAMS.MESSAGES.name, TELEMETRY_PG));
  await assert.rejects((await jetstreamManager(mqtt)).consumers.delete(STREAMS.MESSAGES.name, TELEMETRY_PG));
  // nor redefine it (a filter that matches nothing would starve the projection), by either API form
  const redefine = JSON.stringify({
    stream_name: STREAMS.MESSAGES.name,
    action: 'update',
    config: { name: TELEMETRY_PG, ack_policy: 'explicit', filter_subjects: ['msg.none.>'] },
  });
  for (const subject of [
    '$JS.API.CONSUMER.CREATE.MESSAGES',
    `$JS.API.CONSUMER.CREATE.MESSAGES.${TELEMETRY_PG}`,
  ]) {
    await assert.rejects(mqtt.request(subject, redefine, { timeout: 2_000 }), subject);
  }
  const admin = await jetstreamManager(await as('admin'));
  assert.deepEqual((await admin.consumers.info(STREAMS.MESSAGES.name, TELEMETRY_PG)).config.filter_subjects, [
    'msg.>',
  ]);
  // a channel subscription's ordered consumer works for the MQTT bridge
  const ordered = await jetstream(mqtt).consumers.get(STREAMS.MESSAGES.name, {
    filter_subjects: `msg.${TENANT}.c1.>`,
    deliver_policy: DeliverPolicy.All,
  });
  const first = await ordered.next({ expires: 2_000 });
  assert.equal(first?.subject, `msg.${TENANT}.c1.${THING}`);
  await ordered.delete();
});

test('one user cannot subscribe to another user’s inbox', async () => {
  const mqtt = await as('mqtt');
  const sub = mqtt.subscribe(`${natsInboxPrefix('api')}.>`);
  const ended = await sub.closed;
  assert.ok(ended instanceof Error && /permission/i.test(ended.message), String(ended));
  // its own inbox is fine: requests (every JetStream call) are answered there
  assert.ok((await (await jetstreamManager(mqtt)).getAccountInfo()).streams >= 5);
});

test('a binding replay is asked by the API only; inference answers on the replay subjects only', async () => {
  const inference = await as('inference');
  const asked: string[] = [];
  const cancelled: string[] = [];
  inference.subscribe(REPLAY_REQUEST_SUBJECT, {
    queue: 'inference',
    callback: (_e, m) => {
      asked.push(m.string());
    },
  });
  inference.subscribe(replayCancelSubject('*'), {
    callback: (_e, m) => {
      cancelled.push(m.subject);
    },
  });
  await inference.flush();
  for (const user of ['mqtt', 'rules', 'telemetry-pg', 'api'] as const) {
    const nc = await as(user);
    nc.publish(REPLAY_REQUEST_SUBJECT, user);
    nc.publish(replayCancelSubject(`job-of-${user}`));
    await nc.flush();
  }
  const api = await as('api');
  const answers: string[] = [];
  api.subscribe(replayReplySubject('job-1'), {
    callback: (_e, m) => {
      answers.push(m.string());
    },
  });
  await api.flush();
  inference.publish(replayReplySubject('job-1'), 'progress');
  inference.publish('telly.auth.revoked.x', 'forged'); // the API's notices: not the inference user's
  await inference.flush();
  await waitFor(() => asked.includes('api') && cancelled.length > 0 && answers.length > 0, {
    what: 'the API’s request, cancellation and the answer',
  });
  assert.deepEqual(asked, ['api'], 'only the API asks for a replay');
  assert.deepEqual(cancelled, [replayCancelSubject('job-of-api')]);
  assert.deepEqual(answers, ['progress']);
  const revoked = inference.subscribe('telly.auth.revoked.>');
  const ended = await revoked.closed;
  assert.ok(ended instanceof Error && /permission/i.test(ended.message), String(ended));
});

test('API instances answer each other for their jobs; no other component hears or asks', async () => {
  const [a, b] = await Promise.all([as('api'), as('api')]);
  const subjectPrefix = 'telly.jobs.models';
  const onA = new JobQueue({ peer: { nc: a, subjectPrefix } });
  const onB = new JobQueue({ peer: { nc: b, subjectPrefix } });
  await Promise.all([a.flush(), b.flush()]);
  const job = onA.submit(TENANT, 'predict', THING, () => new Promise(() => {}));
  try {
    assert.equal((await onB.get(TENANT, job.id))?.status, 'running', 'answered on the asking API’s inbox');
    for (const user of ['rules', 'inference', 'mqtt'] as const) {
      const sub = (await as(user)).subscribe(`${subjectPrefix}.>`);
      const ended = await sub.closed;
      assert.ok(ended instanceof Error && /permission/i.test(ended.message), `${user}: ${ended}`);
    }
    assert.equal((await onB.cancel(TENANT, job.id))?.status, 'cancelled');
  } finally {
    onA.close();
    onB.close();
  }
});

test('the durables in the permission table are the ones the processors define', () => {
  const pool = {} as pg.Pool;
  assert.equal(DURABLES.telemetryPg.name, TELEMETRY_PG);
  assert.equal(DURABLES.telemetryInflux.name, TELEMETRY_INFLUX);
  assert.equal(DURABLES.registry.name, REGISTRY_PROJECTION);
  assert.equal(DURABLES.devicesEvents.name, DEVICES_EVENTS);
  assert.equal(DURABLES.devicesMessages.name, DEVICES_MESSAGES);
  assert.deepEqual(
    [requestedProjection(pool), statusProjection(pool), scheduledProjection(pool)].map((p) => ({
      stream: p.stream,
      name: p.name,
    })),
    [DURABLES.commandsRequested, DURABLES.commandsStatus, DURABLES.commandsScheduled],
  );
});

test('the checked-in server snippet is the table rendered', async () => {
  assert.equal(
    await readFile(PERMISSIONS_SNIPPET, 'utf8'),
    renderPermissionsSnippet(),
    'run: node -e "import(\'./deploy/src/up/nats-auth-config.ts\').then(m => process.stdout.write(m.renderPermissionsSnippet()))" > deploy/nats/telly-permissions.conf',
  );
});

test('secrets are files of mode 0600 in a directory of mode 0700, and stable', async () => {
  const dir = join(dataDir, 'secrets');
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  for (const user of NATS_USERS) {
    const file = join(dir, `nats-${user}.password`);
    assert.equal((await stat(file)).mode & 0o777, 0o600, file);
    assert.equal((await readFile(file, 'utf8')).trim(), passwords[user]);
  }
  assert.deepEqual(await natsPasswords(dataDir), passwords);
  assert.equal((await stat(join(server.storeDir, 'nats-server.conf'))).mode & 0o777, 0o600);
  assert.equal(server.httpPort, undefined, 'no monitoring port');
});

test('telly up: the managed nats-server refuses anonymous clients, its secrets are 0600', async () => {
  const platform = await startPlatform();
  try {
    const url = `nats://127.0.0.1:${platform.ports.nats}`;
    await assert.rejects(connect({ servers: url, reconnect: false }), /authoriz|auth/i);
    const data = platform.env.TELLY_DATA_DIR!;
    assert.equal((await stat(join(data, 'secrets'))).mode & 0o777, 0o700);
    for (const user of NATS_USERS) {
      assert.equal((await stat(join(data, 'secrets', `nats-${user}.password`))).mode & 0o777, 0o600, user);
    }
    assert.equal((await stat(join(data, 'nats'))).mode & 0o777, 0o700, 'the JetStream store');
    const config = await readFile(join(data, 'nats', 'nats-server.conf'), 'utf8');
    assert.doesNotMatch(config, /^http:/m, 'no monitoring port');
    assert.doesNotMatch(config, /no_auth_user/);
    assert.doesNotMatch(platform.output(), new RegExp(passwords.admin), 'no password in the logs');
    const secret = (await readFile(join(data, 'secrets', 'nats-api.password'), 'utf8')).trim();
    assert.doesNotMatch(platform.output(), new RegExp(secret));
    // the paths that need the bridges' permissions, end to end: a channel subscription over MQTT
    // gets what the HTTP bridge accepted for that channel
    const device = await provisionDevice(platform, `nats-${Date.now()}@example.com`);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.ports.mqtt}`, {
      username: device.thingId,
      password: device.key,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    try {
      const topic = `channels/${device.channelId}/messages`;
      const received = new Promise<string>((resolve) =>
        client.once('message', (_t, payload) => resolve(String(payload))),
      );
      await client.subscribeAsync(topic, { qos: 1 });
      const posted = await fetch(`http://127.0.0.1:${platform.ports.http}/${topic}`, {
        method: 'POST',
        headers: { authorization: `Thing ${device.key}`, 'content-type': 'application/senml+json' },
        body: JSON.stringify([{ n: 'temp', u: 'Cel', v: 21.5 }]),
      });
      assert.equal(posted.status, 202);
      assert.match(await received, /21\.5/);
    } finally {
      await client.endAsync();
    }
  } finally {
    await platform.stop();
  }
});

test('telly up on a secured cluster (the snippet): each component connects as its own user', async () => {
  // a cluster configured with the checked-in snippet, monitoring on so the test sees who connected
  const cluster = await NatsServer.start({ extraConfig: renderManagedAuthorization(passwords) });
  try {
    const env: NodeJS.ProcessEnv = { NATS_URL: cluster.url };
    for (const user of NATS_USERS) env[passwordVariable(user)] = passwords[user];
    const platform = await startPlatform(env);
    try {
      const connz = (await (
        await fetch(`http://127.0.0.1:${cluster.httpPort}/connz?auth=true&limit=1024`)
      ).json()) as {
        connections: { name?: string; authorized_user?: string }[];
      };
      const users = new Map(connz.connections.map((c) => [c.name, c.authorized_user]));
      const entries = COMPONENTS.filter((entry) => entry.enabled?.(env) ?? true);
      assert.deepEqual(
        Object.fromEntries(entries.map((entry) => [entry.name, users.get(entry.name)])),
        Object.fromEntries(entries.map((entry) => [entry.name, natsUserName(entry.natsUser)])),
      );
      assert.equal(users.get('telly-up'), natsUserName('admin'));
    } finally {
      await platform.stop();
    }
  } finally {
    await cluster.stop();
  }
});

test('the API child of telly up listens on loopback only', () => {
  assert.equal(parseApiConfig({ TELLY_API_INTERNAL_PORT: '4100' }).host, '127.0.0.1');
  assert.equal(
    parseApiConfig({ TELLY_API_INTERNAL_PORT: '4100', TELLY_BIND_ADDRESS: '10.0.0.5' }).host,
    '127.0.0.1',
  );
  assert.equal(parseApiConfig({}).host, '0.0.0.0');
  assert.equal(parseApiConfig({ TELLY_BIND_ADDRESS: '10.0.0.5' }).host, '10.0.0.5');
});
