// Cluster mode, black-box: a 3-server NATS cluster (the permissions of nats-auth.ts, every stream
// R3, sync_interval always), one Postgres, and two `telly up` supervisors on it, so every
// registered component runs twice. The tests share that stack: what runs, that the instances
// share the work, and then the faults under continuous MQTT and HTTP load (with a rule whose
// alerts, their events and their mails must come out once each).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { NatsCluster, SmtpCapture, waitFor } from '@telly/harness';
import { connectNats, ensureTopology } from '@telly/runtime';
import { STREAMS } from '@telly/schemas';
import { createClient } from 'graphql-ws';
import mqtt from 'mqtt';
import pg from 'pg';
import { WebSocket } from 'ws';
import { type ClusterStack, startClusterStack } from '../testing/cluster.ts';
import { type Platform, provisionDevice, runTelly } from '../testing/platform.ts';
import { COMPONENTS } from '../up/components.ts';
import { DURABLES, NATS_USERS, type NatsUser, natsUserName } from '../up/nats-auth.ts';
import { passwordVariable, renderManagedAuthorization } from '../up/nats-auth-config.ts';
import { startGateway } from './gateway.ts';
import { request } from './https.ts';
import { DeviceLoad } from './load.ts';
import { monitoredMetrics } from './monitoring.ts';
import { NATSCLI, required } from './tools.ts';
import {
  alertEvents,
  logCopies,
  lostAndDoubled,
  replicasCurrent,
  streamDigest,
  telemetryCopies,
} from './verify.ts';

const run = promisify(execFile);
const INSTANCES = 2;
/** Device messages per second per protocol during the fault run. */
const RATE = Number(process.env.TELLY_CLUSTER_RATE ?? 40);
/** What a device may wait for an ack during a rolling restart (its client retrying meanwhile). */
const ROLLING_RETRY_BOUND_MS = 20_000;
/** The load's `v` is 0 for this many messages, then 1 as many: a rule `v > 0.5` raises and resolves. */
const ALERT_HALF_PERIOD = 5 * RATE;
/**
 * Repeated mails (same Message-ID) the rules component admits: a notifier stopped between the
 * SMTP server's acceptance and marking the job sent resends it after the lease (docs/rules.md),
 * at most one batch of 16 jobs each time; two faults here can stop one there (its SIGKILL, and
 * Postgres gone under it).
 */
const MAIL_REPEAT_BOUND = 2 * 16;

let stack: ClusterStack;
let smtp: SmtpCapture;
/** The components `telly up` runs in this environment (the list other packages register into). */
const components = COMPONENTS.filter((c) => c.enabled?.(process.env) ?? true).map((c) => c.name);

before(async () => {
  smtp = await SmtpCapture.start();
  stack = await startClusterStack({ instances: INSTANCES, env: { TELLY_SMTP_URL: smtp.url } });
});
after(async () => {
  await stack?.stop();
  await smtp?.stop();
});

type Health = Awaited<ReturnType<Platform['health']>>['body'];

/** Each component's pid in one instance, once every component there is up. */
function pids(health: Health): Map<string, number> {
  return new Map(components.map((name) => [name, health.checks[`component:${name}`]?.detail?.pid ?? 0]));
}

/** Waits until every component of `platform` is up with a pid not in `old`. */
async function allUpAgain(platform: Platform, old: ReadonlySet<number>, timeoutMs = 60_000): Promise<Health> {
  let last: Health | undefined;
  return waitFor(
    async () => {
      const { body } = await platform.health().catch(() => ({ body: undefined }));
      if (!body) return undefined;
      last = body;
      const up = components.every((name) => {
        const check = body.checks[`component:${name}`];
        return check?.status === 'up' && (check.detail?.pid ?? 0) > 0 && !old.has(check.detail?.pid ?? 0);
      });
      return up && body;
    },
    { timeoutMs, intervalMs: 200, what: `every component of ${platform.apiUrl} up again` },
  ).catch((err: unknown) => {
    const states = Object.entries(last?.checks ?? {}).map(
      ([k, v]) => `${k}=${v.status}:${JSON.stringify(v.detail).slice(0, 300)}`,
    );
    throw new Error(`${(err as Error).message}: ${states.join(' | ')}\n${platform.output().slice(-3_000)}`);
  });
}

/** The sum of a counter's samples in one supervisor's /metrics whose labels contain every `labels` pair. */
async function counter(platform: Platform, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${platform.apiUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (wanted) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

test('every registered component runs in both instances, on R3 streams spread over the 3 servers', async () => {
  assert.ok(components.length >= 7, `the registered components: ${components.join(', ')}`);
  for (const name of ['registry', 'commands', 'devices', 'telemetry-pg', 'mqtt', 'http', 'api'])
    assert.ok(components.includes(name), `${name} is registered`);
  for (const platform of stack.instances) {
    const { code, body } = await platform.health();
    assert.equal(code, 200);
    for (const name of components) assert.equal(body.checks[`component:${name}`]?.status, 'up', name);
    assert.equal(body.checks.nats?.detail?.url, stack.nats.url, 'the supervisor uses the cluster');
  }
  const nc = await connectNats(stack.adminNats, 'cluster-test');
  try {
    const jsm = await jetstreamManager(nc);
    const leaders = new Set<string>();
    for await (const info of jsm.streams.list()) {
      assert.equal(info.config.num_replicas, 3, `${info.config.name} has 3 replicas`);
      assert.equal(info.cluster?.replicas?.length, 2, `${info.config.name}: a leader and two followers`);
      if (info.cluster?.leader) leaders.add(info.cluster.leader);
    }
    assert.ok(leaders.size >= 1);
  } finally {
    await nc.close();
  }
});

test('the instances share the work: tokens, registry writes, fan-out, commands and every processor across both', async () => {
  const [a, b] = stack.instances as [Platform, Platform];
  const device = await provisionDevice(a, `share-${Date.now()}@example.com`);
  // a token from instance A's API works on B's; a thing created through A is read through B
  const { thing } = await b.gql<{ thing: { id: string } | null }>(
    'query($t: ID!) { thing(id: $t) { id } }',
    { t: device.thingId },
    device.token,
  );
  assert.equal(thing?.id, device.thingId);

  // a subscriber on B's MQTT bridge receives what is sent through A's HTTP bridge, and its commands
  const sub = await waitFor(
    async () => {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.ports.mqtt}`, {
        username: device.thingId,
        password: device.key,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      const granted = await client.subscribeAsync(
        [`channels/${device.channelId}/messages`, `things/${device.thingId}/commands`],
        { qos: 1 },
      );
      if (granted.every((g) => g.qos === 1)) return client;
      await client.endAsync();
      return undefined;
    },
    { timeoutMs: 15_000, what: "B's MQTT bridge knows the new thing" },
  );
  const received: string[] = [];
  const commands: string[] = [];
  sub.on('message', (topic, payload) => {
    if (topic.endsWith('/commands')) commands.push((JSON.parse(payload.toString()) as { id: string }).id);
    else received.push((JSON.parse(payload.toString()) as { vs: string }[])[0]?.vs ?? '');
  });
  try {
    const N = 200;
    for (let i = 0; i < N; i++) {
      const bridge = i % 2 === 0 ? a : b;
      const res = await fetch(`http://127.0.0.1:${bridge.ports.http}/channels/${device.channelId}/messages`, {
        method: 'POST',
        headers: { authorization: `Thing ${device.key}`, 'content-type': 'application/senml+json' },
        body: JSON.stringify([
          { n: 'id', vs: `share-${i}` },
          { n: 'v', v: i },
        ]),
      });
      assert.equal(res.status, 202, await res.text());
    }
    await waitFor(() => received.filter((id) => id.startsWith('share-')).length >= N / 2, {
      timeoutMs: 15_000,
      what: 'the subscriber on B got what A took',
    });
    assert.ok(received.includes('share-0'), 'a message taken by A reached the subscriber on B');

    const { sendCommand } = await a.gql<{ sendCommand: { id: string } }>(
      'mutation($t: ID!) { sendCommand(thingId: $t, name: "led", payload: {on: true}, ttl: "5m") { id } }',
      { t: device.thingId },
      device.token,
    );
    await waitFor(() => commands.includes(sendCommand.id), {
      timeoutMs: 15_000,
      what: 'the command sent through A delivered by B',
    });
    // the telemetry projection holds each message once, whichever instance applied it; read through B
    await waitFor(
      async () => {
        const { telemetry } = await b.gql<{ telemetry: { value: number }[] }>(
          'query($t: ID!) { telemetry(thingId: $t, name: "v", last: 1000) { value } }',
          { t: device.thingId },
          device.token,
        );
        return telemetry.length === N;
      },
      { timeoutMs: 30_000, what: `${N} points through B's API` },
    );
    assert.equal(commands.filter((id) => id === sendCommand.id).length, 1, 'the command delivered once');
  } finally {
    await sub.endAsync();
  }

  // every metric the alert rules and the Grafana dashboard (deploy/monitoring) use is served
  const served = await (await fetch(`${a.apiUrl}/metrics`)).text();
  for (const metric of await monitoredMetrics())
    assert.match(served, new RegExp(`^# TYPE ${metric} `, 'm'), `${metric} is on /metrics`);

  // every processor on a busy stream took a share in both instances, unless it is pinned to one at a time
  const nc = await connectNats(stack.adminNats, 'cluster-test');
  try {
    const jsm = await jetstreamManager(nc);
    for (const durable of Object.values(DURABLES)) {
      const info = await jsm.consumers.info(durable.stream, durable.name).catch(() => undefined);
      if (!info) continue; // a processor not running here (the Influx sink without INFLUX_URL)
      const acked = await Promise.all(
        [a, b].map((p) =>
          counter(p, 'telly_processor_messages_total', { processor: durable.name, outcome: 'acked' }),
        ),
      );
      const total = acked[0]! + acked[1]!;
      if (info.config.priority_policy === 'pinned_client') {
        // one instance at a time; nothing to do yet (no alert raised so far) is fine
        if (info.delivered.consumer_seq > 0) {
          assert.ok(total > 0, `${durable.name} (pinned) applied messages: ${acked}`);
        }
        continue;
      }
      if (total < 50) continue; // too few messages to expect a share each
      assert.ok(
        acked.every((n) => n > 0),
        `${durable.name} shared across the instances: ${acked}`,
      );
    }
  } finally {
    await nc.close();
  }
});

test('the nginx gateway in front of both instances: HTTPS GraphQL, a WSS subscription, MQTT over WSS and TLS, HTTP ingest, rate limits', async () => {
  await using gateway = await startGateway(
    stack.instances.map((p) => ({
      api: p.ports.api,
      http: p.ports.http,
      mqtt: p.ports.mqtt,
      mqttWs: p.ports.mqttWs,
    })),
  );
  assert.match(gateway.check(), /ok|successful/, 'nginx -t');
  const { ca } = gateway;
  const base = `https://localhost:${gateway.https}`;
  const https = async (
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ) => request(`${base}${path}`, { ca, ...init });
  const gql = async <T>(
    query: string,
    variables: Record<string, unknown> = {},
    token?: string,
  ): Promise<T> => {
    const res = await https('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = JSON.parse(res.body) as { data?: T; errors?: unknown[] };
    assert.equal(res.status, 200, res.body);
    assert.ok(body.data && !body.errors, res.body);
    return body.data;
  };

  // HTTPS GraphQL: sign up, create a channel and a thing, connect them
  const { signup } = await gql<{ signup: { accessToken: string } }>(
    `mutation { signup(input: { email: "gateway-${Date.now()}@example.com", password: "correct horse battery staple", tenantName: "gw" }) { accessToken } }`,
  );
  const token = signup.accessToken;
  const { createChannel } = await gql<{ createChannel: { id: string } }>(
    'mutation { createChannel(input: { name: "gw" }) { id } }',
    {},
    token,
  );
  const { createThing } = await gql<{ createThing: { key: string; thing: { id: string } } }>(
    'mutation { createThing(input: { name: "gw-1" }) { key thing { id } } }',
    {},
    token,
  );
  const thingId = createThing.thing.id;
  await gql(
    'mutation($t: ID!, $c: ID!) { connect(thingId: $t, channelId: $c) }',
    { t: thingId, c: createChannel.id },
    token,
  );

  // a WSS graphql-ws subscription to the thing's telemetry
  class TrustingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca });
    }
  }
  const live = createClient({
    url: `wss://localhost:${gateway.https}/graphql`,
    webSocketImpl: TrustingWebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const points: { name: string; value: number }[] = [];
  const errors: unknown[] = [];
  const unsubscribe = live.subscribe<{ telemetry: { name: string; value: number } }>(
    { query: 'subscription($t: ID!) { telemetry(thingId: $t) { name value } }', variables: { t: thingId } },
    {
      next: (r) => (r.data ? points.push(r.data.telemetry) : errors.push(r.errors)),
      error: (e) => errors.push(e),
      complete: () => {},
    },
  );
  const ingest = (records: unknown[]) =>
    https(`/channels/${createChannel.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Thing ${createThing.key}`, 'content-type': 'application/senml+json' },
      body: JSON.stringify(records),
    });
  const mqttOptions = {
    username: thingId,
    password: createThing.key,
    protocolVersion: 4 as const,
    reconnectPeriod: 0,
    ca,
    wsOptions: { ca },
  };
  try {
    // HTTP ingest through the gateway; the subscription is live once a probe comes back over WSS
    await waitFor(
      async () => {
        assert.equal((await ingest([{ n: 'probe', v: 0 }])).status, 202);
        return points.some((p) => p.name === 'probe');
      },
      {
        timeoutMs: 20_000,
        intervalMs: 250,
        what: 'the WSS subscription live (HTTP ingest through the gateway)',
      },
    );
    // MQTT over WSS (/mqtt) and MQTT over TLS (the stream proxy): each QoS 1 publish PUBACKed
    const overWss = await waitFor(
      () => mqtt.connectAsync(`wss://localhost:${gateway.https}/mqtt`, mqttOptions).catch(() => undefined),
      { timeoutMs: 15_000, what: 'MQTT over WSS connected' },
    );
    const overTls = await waitFor(
      () => mqtt.connectAsync(`mqtts://localhost:${gateway.mqtts}`, mqttOptions).catch(() => undefined),
      { timeoutMs: 15_000, what: 'MQTT over TLS connected' },
    );
    try {
      await overWss.publishAsync(
        `channels/${createChannel.id}/messages`,
        JSON.stringify([{ n: 'wss', v: 1 }]),
        { qos: 1 },
      );
      await overTls.publishAsync(
        `channels/${createChannel.id}/messages`,
        JSON.stringify([{ n: 'tls', v: 2 }]),
        { qos: 1 },
      );
    } finally {
      await Promise.all([overWss.endAsync(), overTls.endAsync()]);
    }
    assert.equal((await ingest([{ n: 'https', v: 3 }])).status, 202);
    await waitFor(() => ['wss', 'tls', 'https'].every((n) => points.some((p) => p.name === n)), {
      timeoutMs: 15_000,
      what: 'the MQTT (WSS, TLS) and HTTPS points on the WSS subscription',
    });
    assert.deepEqual(errors, []);
  } finally {
    unsubscribe();
    await live.dispose();
  }

  // plain HTTP is only a redirect; /metrics is not public; a burst past the API's limit gets 429s
  const plain = await fetch(`http://127.0.0.1:${gateway.http}/graphql`, { redirect: 'manual' });
  assert.equal(plain.status, 308);
  assert.equal(plain.headers.get('location'), `https://127.0.0.1/graphql`);
  assert.equal((await https('/metrics')).status, 404);
  const burst = await Promise.all(Array.from({ length: 120 }, () => https('/healthz')));
  const statuses = burst.map((r) => r.status);
  assert.ok(statuses.includes(200), 'the burst is served up to the limit');
  assert.ok(
    statuses.filter((s) => s === 429).length >= 40,
    `past burst=40 the gateway answers 429: ${statuses.filter((s) => s === 429).length}`,
  );
});

test('faults under load: a nats-server, one instance of every component and Postgres SIGKILLed, then a rolling restart: no acked message lost or doubled, no alert doubled', {
  timeout: 400_000,
}, async (t) => {
  const [a] = stack.instances as [Platform, Platform];
  const owner = await provisionDevice(a, `faults-${Date.now()}@example.com`);
  const { me } = await a.gql<{ me: { tenant: { id: string } } }>('{ me { tenant { id } } }', {}, owner.token);
  const tenantId = me.tenant.id;
  const { createThing } = await a.gql<{ createThing: { key: string; thing: { id: string } } }>(
    'mutation { createThing(input: { name: "http-sensor" }) { key thing { id } } }',
    {},
    owner.token,
  );
  await a.gql(
    'mutation($t: ID!, $c: ID!) { connect(thingId: $t, channelId: $c) }',
    {
      t: createThing.thing.id,
      c: owner.channelId,
    },
    owner.token,
  );
  const httpDevice = { thingId: createThing.thing.id, key: createThing.key, channelId: owner.channelId };
  // both bridges of both instances know the two things before the run
  for (const p of stack.instances) {
    await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${p.ports.http}/channels/${owner.channelId}/messages`, {
          method: 'POST',
          headers: { authorization: `Thing ${httpDevice.key}`, 'content-type': 'application/senml+json' },
          body: '[{"n":"probe","v":"not a number"}]',
        });
        await res.body?.cancel();
        return res.status === 400;
      },
      { timeoutMs: 15_000, what: 'the HTTP bridges see the thing' },
    );
  }

  // a rule over every thing of the tenant, mailing each transition; the load crosses it every
  // ALERT_HALF_PERIOD messages on both things
  const ruleInput = {
    name: 'cluster v high',
    measurement: 'v',
    condition: { op: 'GT', value: 0.5 },
    severity: 'MAJOR',
    message: '{thing}: v at {value}',
    actions: [{ email: { to: ['ops@example.com'] } }],
  };
  const { createRule } = await a.gql<{ createRule: { id: string } }>(
    'mutation($input: CreateRuleInput!) { createRule(input: $input) { id } }',
    { input: ruleInput },
    owner.token,
  );
  const ruleId = createRule.id;
  const load = new DeviceLoad({
    mqtt: owner,
    http: httpDevice,
    bridges: () => stack.instances.map((p) => ({ mqttPort: p.ports.mqtt, httpPort: p.ports.http })),
    rate: RATE,
    value: (seq) => Math.floor(seq / ALERT_HALF_PERIOD) % 2,
  });
  const phases: Record<string, unknown>[] = [];
  const started = Date.now();
  const phase = async (name: string, run: () => Promise<Record<string, unknown>>) => {
    const from = Date.now();
    const ackedBefore = load.acked;
    const detail = await run();
    // the load goes on through each fault: at least a second's worth acked after it
    const ackedAt = load.acked;
    await waitFor(() => load.acked >= ackedAt + RATE, {
      timeoutMs: 60_000,
      what: `load acked again after ${name}`,
    });
    const to = Date.now();
    phases.push({
      name,
      ms: to - from,
      acked: load.acked - ackedBefore,
      longestAckMs: load.longestDelivery(from, to).ms,
      ...detail,
    });
    return { from, to };
  };
  const nc = await connectNats(stack.adminNats, 'cluster-test');
  const jsm = await jetstreamManager(nc);
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  pool.on('error', () => {}); // Postgres is killed on purpose below
  try {
    // the rules component evaluates with the rule from the batch after it is in its table
    await waitFor(
      async () => (await pool.query('SELECT 1 FROM rules WHERE id = $1', [ruleId])).rowCount === 1,
      {
        timeoutMs: 30_000,
        what: 'the rule projected',
      },
    );
    const loadFrom = new Date();
    await load.start();
    await waitFor(() => load.acked >= 4 * RATE, { timeoutMs: 30_000, what: 'the load running' });

    await phase('nats-server SIGKILL and restart', async () => {
      const leader = (await jsm.streams.info('MESSAGES')).cluster?.leader ?? '';
      const index = stack.nats.servers.findIndex((_, i) => leader === `${stack.nats.name}-${i + 1}`);
      assert.ok(index >= 0, `MESSAGES' leader ${leader} is a server of the cluster`);
      await stack.nats.kill(index);
      const killedAt = load.acked;
      await waitFor(() => load.acked >= killedAt + 2 * RATE, {
        timeoutMs: 60_000,
        what: 'acks with the stream leader down',
      });
      await stack.nats.restart(index);
      return { killed: leader, ackedWhileDown: load.acked - killedAt };
    });

    await phase('one instance of every component SIGKILLed', async () => {
      const { body } = await a.health();
      const killed = pids(body);
      for (const [name, pid] of killed) {
        assert.ok(pid > 0, `${name} has a pid`);
        process.kill(pid, 'SIGKILL');
      }
      await allUpAgain(a, new Set(killed.values()));
      return { killed: [...killed.keys()] };
    });

    await phase('Postgres SIGKILLed and restarted', async () => {
      await stack.postgres.process.kill('SIGKILL');
      const killedAt = load.acked;
      // ingest does not need Postgres: devices keep being acknowledged while it is down
      await waitFor(() => load.acked >= killedAt + RATE, {
        timeoutMs: 30_000,
        what: 'acks with Postgres down',
      });
      await stack.postgres.restart();
      for (const p of stack.instances) await allUpAgain(p, new Set());
      return { ackedWhileDown: load.acked - killedAt };
    });

    const rolling = await phase('rolling restart of every component', async () => {
      // one instance at a time: every component of it drains (SIGTERM) and is restarted by its
      // supervisor while the other instance serves
      for (const p of stack.instances) {
        const { body } = await p.health();
        const old = pids(body);
        for (const pid of old.values()) process.kill(pid, 'SIGTERM');
        await allUpAgain(p, new Set(old.values()));
      }
      return { instances: stack.instances.length };
    });
    const rollingLongest = load.longestDelivery(rolling.from, rolling.to);

    const { settled } = await load.stop(90_000);
    assert.ok(settled, 'every message sent was acknowledged in the end');
    const ackedIds = [...load.mqtt.keys(), ...load.http.keys()];

    // what the log holds, and what the telemetry projection holds once it caught up
    const log = await logCopies(stack.adminNats, tenantId);
    const inLog = lostAndDoubled(ackedIds, log);
    const stored = [...log.keys()].filter((id) => id.startsWith('mqtt-') || id.startsWith('http-'));
    const projection = await waitFor(
      async () => {
        const copies = await telemetryCopies(pool, tenantId).catch(() => undefined);
        return copies && stored.every((id) => copies.rows.has(id)) && copies;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'the telemetry projection caught up with the log' },
    );
    const inProjection = lostAndDoubled(stored, projection.rows);

    // the alerts: what a backtest of the rule over the log finds (the live evaluator's code, with
    // the live rule's alert ids) is what the live rule raised and resolved, each once, despite the
    // faults; the alerts projection, EVENTS and the mails agree with it
    const { backtestRule: backtestStarted } = await a.gql<{ backtestRule: { id: string } }>(
      `mutation($input: CreateRuleInput!, $from: DateTime!, $to: DateTime!, $rule: ID) {
        backtestRule(input: $input, from: $from, to: $to, ruleId: $rule) { id }
      }`,
      {
        input: ruleInput,
        from: loadFrom.toISOString(),
        to: new Date(Date.now() + 1_000).toISOString(),
        rule: ruleId,
      },
      owner.token,
    );
    // a job of the instance that started it: polled there until it is done
    type BacktestJob = {
      status: string;
      error: string | null;
      result: {
        readings: number;
        alerts: { alertId: string; raisedAt: string; resolvedAt: string | null }[];
      } | null;
    };
    const job = await waitFor(
      async () => {
        const { backtestJob } = await a.gql<{ backtestJob: BacktestJob }>(
          `query($id: ID!) {
            backtestJob(id: $id) { status error result { readings alerts { alertId raisedAt resolvedAt } } }
          }`,
          { id: backtestStarted.id },
          owner.token,
        );
        return backtestJob.status !== 'QUEUED' && backtestJob.status !== 'RUNNING' && backtestJob;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'the backtest job ended' },
    );
    assert.equal(job.status, 'DONE', job.error ?? undefined);
    const backtestRule = job.result!;
    const expected = backtestRule.alerts.map((x) => ({
      id: x.alertId,
      raisedAt: Date.parse(x.raisedAt),
      resolvedAt: x.resolvedAt === null ? null : Date.parse(x.resolvedAt),
    }));
    const expectedMails = new Set(
      expected.flatMap((x) => [
        `<${x.id}.raised.0@telly>`,
        ...(x.resolvedAt === null ? [] : [`<${x.id}.resolved.0@telly>`]),
      ]),
    );
    const key = (x: { id: string; raisedAt: number; resolvedAt: number | null }) =>
      `${x.id} ${x.raisedAt} ${x.resolvedAt}`;
    const liveAlerts = async () =>
      (
        await pool.query<{ id: string; raised_at: Date; resolved_at: Date | null }>(
          'SELECT id, raised_at, resolved_at FROM alerts WHERE rule_id = $1 ORDER BY raised_at',
          [ruleId],
        )
      ).rows.map((r) => ({
        id: r.id,
        raisedAt: r.raised_at.getTime(),
        resolvedAt: r.resolved_at?.getTime() ?? null,
      }));
    const mailIds = () => new Set(smtp.mails.map((m) => m.messageId ?? '?'));
    await waitFor(
      async () => {
        const live = (await liveAlerts()).map(key).sort();
        const mailed = mailIds();
        return (
          live.length === expected.length &&
          expected
            .map(key)
            .sort()
            .every((k, i) => live[i] === k) &&
          [...expectedMails].every((id) => mailed.has(id))
        );
      },
      // a job whose notifier was killed after claiming it waits out its 60 s lease
      {
        timeoutMs: 90_000,
        intervalMs: 500,
        what: 'the live alerts and their mails caught up with the backtest',
      },
    ).catch(() => {}); // the assertions below say what differs
    const live = await liveAlerts();
    const { rows: openPerSeries } = await pool.query<{ thing_id: string; measurement: string; open: string }>(
      `SELECT thing_id, measurement, count(*) AS open FROM alerts
       WHERE rule_id = $1 AND status IN ('open', 'acknowledged') GROUP BY 1, 2`,
      [ruleId],
    );
    const events = await alertEvents(stack.adminNats, tenantId);
    const eventIds = new Map<string, number>();
    for (const e of events) eventIds.set(e.id, (eventIds.get(e.id) ?? 0) + 1);
    const ofType = (type: string) => events.filter((e) => e.type === type && e.data.ruleId === ruleId);
    const perAlert = (type: string) => {
      const n = new Map<string, number>();
      for (const e of ofType(type)) n.set(e.data.alertId, (n.get(e.data.alertId) ?? 0) + 1);
      return n;
    };
    const raisedEvents = perAlert('alert.raised');
    const resolvedEvents = perAlert('alert.resolved');
    const notified = new Map<string, number>();
    for (const e of ofType('alert.notified')) {
      const job = `<${e.data.alertId}.${e.data.transition}.${e.data.action}@telly>`;
      notified.set(job, (notified.get(job) ?? 0) + 1);
    }
    const mailed = mailIds();
    const alertSummary = {
      readings: backtestRule.readings,
      alerts: expected.length,
      resolved: expected.filter((x) => x.resolvedAt !== null).length,
      live: live.length,
      events: {
        raised: ofType('alert.raised').length,
        resolved: ofType('alert.resolved').length,
        notified: ofType('alert.notified').length,
      },
      mails: smtp.mails.length,
      distinctMails: mailed.size,
      repeatedMails: smtp.mails.length - mailed.size,
    };
    const summary = {
      rate: RATE,
      runMs: Date.now() - started,
      acked: { mqtt: load.mqtt.size, http: load.http.size, total: ackedIds.length },
      log: {
        entries: [...log.values()].reduce((s, n) => s + n, 0),
        lost: inLog.lost.length,
        doubled: inLog.doubled.length,
      },
      projection: {
        rows: projection.rows.size,
        lost: inProjection.lost.length,
        doubled: inProjection.doubled.length,
        rawValues: projection.rawValues,
        rollupCount: projection.rollupCount,
      },
      rolling: { longestAckMs: rollingLongest.ms, of: rollingLongest.id },
      alerting: alertSummary,
      refusals: load.refusals.length,
      retries: load.retries,
      mqttReconnects: load.mqttReconnects,
      phases,
    };
    t.diagnostic(`cluster faults summary ${JSON.stringify(summary)}`);

    assert.deepEqual(inLog.lost, [], `LOST from the log: ${inLog.lost.slice(0, 20)}`);
    assert.deepEqual(inLog.doubled, [], `DOUBLED in the log: ${inLog.doubled.slice(0, 20)}`);
    assert.deepEqual(inLog.unexpected, [], 'the log holds only what the devices sent');
    assert.deepEqual(inProjection.lost, [], `LOST from telemetry: ${inProjection.lost.slice(0, 20)}`);
    assert.deepEqual(inProjection.doubled, [], `DOUBLED in telemetry: ${inProjection.doubled.slice(0, 20)}`);
    assert.equal(projection.rawValues, stored.length, 'one value row per stored message');
    assert.equal(projection.rollupCount, stored.length, 'the 1m rollups count each message once');
    assert.deepEqual(load.refusals, [], 'no device was refused');

    assert.ok(
      expected.length >= 4,
      `the load crossed the rule on both things, repeatedly: ${expected.length} alerts`,
    );
    // no alert doubled or invented: the live alerts are the backtest's, each raised once
    const raisedKey = (x: { id: string; raisedAt: number }) => `${x.id} ${x.raisedAt}`;
    assert.deepEqual(
      live.map(raisedKey).sort(),
      expected.map(raisedKey).sort(),
      "the live alerts are the backtest's, each raised once",
    );
    // and each resolved when the backtest's did: the evaluator saw the readings in log order,
    // also across the takeover of its killed instance
    assert.deepEqual(
      live.map(key).sort(),
      expected.map(key).sort(),
      'each live alert resolved as the backtest says',
    );
    assert.ok(
      openPerSeries.every((r) => Number(r.open) === 1),
      `at most one open alert per (rule, thing, measurement): ${JSON.stringify(openPerSeries)}`,
    );
    assert.deepEqual(
      [...eventIds].filter(([, n]) => n > 1),
      [],
      'no alert event is in EVENTS twice',
    );
    assert.deepEqual(
      [...raisedEvents].sort(),
      expected.map((x) => [x.id, 1]).sort(),
      'one alert.raised per alert',
    );
    assert.deepEqual(
      [...resolvedEvents].filter(([, n]) => n > 1),
      [],
      'at most one alert.resolved per alert',
    );
    const unexpected = (ids: Iterable<string>) => [...ids].filter((id) => !expectedMails.has(id));
    assert.deepEqual(unexpected(mailed), [], 'no mail for a transition the backtest does not have');
    assert.deepEqual(
      [...notified].filter(([, n]) => n > 1),
      [],
      'at most one alert.notified per transition',
    );
    assert.deepEqual(unexpected(notified.keys()), [], 'no alert.notified the backtest does not have');
    assert.ok(
      alertSummary.repeatedMails <= MAIL_REPEAT_BOUND,
      `mails sent again with their Message-ID: ${alertSummary.repeatedMails} (at most ${MAIL_REPEAT_BOUND})`,
    );
    assert.ok(
      rollingLongest.ms <= ROLLING_RETRY_BOUND_MS,
      `during the rolling restart every message was acked within ${ROLLING_RETRY_BOUND_MS} ms of its first send (longest ${rollingLongest.ms} ms, ${rollingLongest.id})`,
    );
  } finally {
    await load.stop(1_000).catch(() => {});
    await nc.close();
    await pool.end();
  }
});

test('backups as docs/operations.md says: MESSAGES and REGISTRY snapshotted from the running cluster by natscli, restored into an empty cluster, hold every entry; telly replay rebuilds telemetry from them', {
  timeout: 180_000,
}, async (t) => {
  const nats = required(NATSCLI, 'natscli');
  const adminPassword = stack.env[passwordVariable('admin')] ?? '';
  const natsCli = async (server: string, args: string[]) => {
    const { stdout } = await run(
      nats,
      ['--server', server, '--user', natsUserName('admin'), '--password', adminPassword, ...args],
      {
        timeout: 120_000,
      },
    ).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`nats ${args.join(' ')}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    return stdout;
  };
  const backups = await mkdtemp(join(tmpdir(), 'telly-backup-'));
  // an empty cluster with the same users: where everything is restored after losing the first
  const passwords = Object.fromEntries(
    NATS_USERS.map((u) => [u, stack.env[passwordVariable(u)] ?? '']),
  ) as Record<NatsUser, string>;
  const empty = await NatsCluster.start({ size: 3, extraConfig: renderManagedAuthorization(passwords) });
  const emptyAdmin = { ...stack.adminNats, servers: empty.urls };
  try {
    const streams = [STREAMS.MESSAGES.name, STREAMS.REGISTRY.name];
    const original: Record<string, Awaited<ReturnType<typeof streamDigest>>> = {};
    const restored: typeof original = {};
    const timings: Record<string, number> = {};
    for (const stream of streams) {
      original[stream] = await streamDigest(stack.adminNats, stream);
      let from = Date.now();
      await natsCli(stack.nats.url, ['backup', 'stream', stream, join(backups, stream), '--no-progress']);
      timings[`backup ${stream}`] = Date.now() - from;
      from = Date.now();
      await natsCli(empty.url, ['backup', 'restore', 'stream', join(backups, stream), '--no-progress']);
      timings[`restore ${stream}`] = Date.now() - from;
      const restoredNc = await connectNats(emptyAdmin, 'backup-test');
      try {
        await replicasCurrent(await jetstreamManager(restoredNc), stream, 2);
      } finally {
        await restoredNc.close();
      }
      restored[stream] = await streamDigest(emptyAdmin, stream);
    }
    // what `telly up` does at its start on the restored cluster: the streams are kept as they are
    const nc = await connectNats(emptyAdmin, 'backup-test');
    let topology: Record<string, string>;
    try {
      topology = await ensureTopology(nc, await jetstreamManager(nc), { replicas: 3 });
    } finally {
      await nc.close();
    }
    const afterTopology = await streamDigest(emptyAdmin, STREAMS.MESSAGES.name);

    // the projection is rebuilt from the restored log into an empty database
    const databaseUrl = await stack.postgres.createDatabase('restored');
    const replayed = await runTelly(['replay', 'telemetry-pg'], {
      ...stack.env,
      NATS_URL: empty.url,
      DATABASE_URL: databaseUrl,
    });
    const counts = async (url: string) => {
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      try {
        const { rows } = await pool.query<{ tenant_id: string; name: string; n: string }>(
          'SELECT tenant_id, name, count(*) AS n FROM telemetry GROUP BY 1, 2 ORDER BY 1, 2',
        );
        return rows.map((r) => `${r.tenant_id} ${r.name} ${r.n}`);
      } finally {
        await pool.end();
      }
    };
    const rebuilt = await counts(databaseUrl);
    const live = await counts(stack.databaseUrl);
    t.diagnostic(
      `backup summary ${JSON.stringify({ original, restored, timings, replay: replayed.stdout.trim(), telemetrySeries: rebuilt.length })}`,
    );
    for (const stream of streams) {
      assert.ok((original[stream]?.entries ?? 0) > 0, `${stream} has entries to back up`);
      assert.deepEqual(
        restored[stream],
        original[stream],
        `${stream}: every entry back, same sequence, subject, data`,
      );
    }
    for (const stream of streams)
      assert.equal(topology[stream], 'unchanged', `ensureTopology keeps ${stream}`);
    assert.deepEqual(
      afterTopology,
      original[STREAMS.MESSAGES.name],
      'MESSAGES as restored after ensureTopology',
    );
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    assert.match(replayed.stdout, /swapped in/);
    assert.ok(rebuilt.length > 0, 'the rebuilt projection holds telemetry');
    assert.deepEqual(
      rebuilt,
      live,
      'the rebuilt projection holds what the live one does, per tenant and name',
    );
  } finally {
    await empty.stop();
    await rm(backups, { recursive: true, force: true });
  }
});
