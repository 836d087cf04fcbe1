// Acceptance "no loss" of the ingest path, black-box against the real `telly up`: N QoS1 messages
// through MQTT and N through HTTP while the bridge processes are SIGKILLed and restarted mid-run,
// with the clients retrying what was not acknowledged. Afterwards the MESSAGES stream must hold
// every acknowledged message exactly once (deduplicated by id).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from '@telly/harness';
import { connectNats, type NatsConfig } from '@telly/runtime';
import mqtt, { type MqttClient, type Packet } from 'mqtt';
import { parseConfig } from '../config.ts';
import { startPlatform } from '../testing/platform.ts';
import { platformUrls } from './dependencies.ts';

const _CLI = fileURLToPath(new URL('../bin/telly.ts', import.meta.url));

/** Messages per protocol. */
const N = Number(process.env.TELLY_NO_LOSS_N ?? 600);
/** New messages dispatched per protocol every {@link TICK_MS}: 90/s, under the 100/s per-thing limit. */
const BATCH = 18;
const TICK_MS = 200;
/** Most messages of one protocol sent and not yet acknowledged (also caps the backlog during an outage). */
const WINDOW = 40;
/** The bridges are killed this long after a batch went out, while it is being written to the log. */
const KILL_DELAY_MS = 4;
/** Kill rounds: when this share of all 2N messages was acknowledged. */
const KILL_AT = [1 / 3, 2 / 3];
const MQTT_CLIENT_ID = 'no-loss-sensor';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const pad = (i: number) => String(i).padStart(5, '0');

/** A failure no retry can fix (e.g. a 4xx other than 429): the test stops. */
class FatalError extends Error {}

function errorCode(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.name ?? e.name ?? 'error';
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

const some = (ids: readonly string[]) =>
  ids.length > 20 ? `${ids.slice(0, 20).join(', ')}, …` : ids.join(', ');

interface Stored {
  seq: number;
  subject: string;
  protocol: string;
  messageId: string;
  received: number;
  /** The id carried in the body (`[{"n":"id","vs":…}]`, stored resolved). */
  bodyId: string;
}

/** Every entry of MESSAGES under `msg.<tenant>.>`, read with an ordered consumer. */
async function readLog(nats: NatsConfig, tenantId: string): Promise<Stored[]> {
  const nc = await connectNats(nats, 'no-loss-test');
  try {
    const filter = `msg.${tenantId}.>`;
    const info = await (await jetstreamManager(nc)).streams.info('MESSAGES', { subjects_filter: filter });
    const total = Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
    const out: Stored[] = [];
    if (total === 0) return out;
    const consumer = await jetstream(nc).consumers.get('MESSAGES', { filter_subjects: filter });
    const messages = await consumer.consume();
    for await (const m of messages) {
      const records = JSON.parse(m.string()) as { n?: string; vs?: string }[];
      out.push({
        seq: m.seq,
        subject: m.subject,
        protocol: m.headers?.get('Telly-Protocol') ?? '',
        messageId: m.headers?.get('Telly-Message-Id') ?? '',
        received: Number(m.headers?.get('Telly-Received')),
        bodyId: records.find((r) => r.n === 'id')?.vs ?? '',
      });
      if (out.length >= total || m.info.pending === 0) break;
    }
    await messages.close();
    return out;
  } finally {
    await nc.close();
  }
}

test('no loss: MQTT QoS1 and HTTP messages survive SIGKILLed bridges, each acked message stored exactly once', {
  timeout: 180_000,
}, async (t) => {
  const testStarted = Date.now();
  const platform = await startPlatform();
  const { ports } = platform;
  // as the operator: the managed nats-server refuses anonymous clients
  const { nats } = await platformUrls(parseConfig(platform.env));
  let client: MqttClient | undefined;
  try {
    const ready = (await platform.health()).body;
    for (const name of ['registry', 'mqtt', 'http', 'api']) {
      assert.equal(ready.checks[`component:${name}`]?.status, 'up', name);
    }
    const upAfterMs = Date.now() - testStarted;

    // --- provisioning through the GraphQL API
    const { signup } = await platform.gql<{
      signup: { accessToken: string; user: { tenant: { id: string } } };
    }>(`mutation { signup(input: { email: "no-loss@example.com", password: "correct horse battery staple",
        tenantName: "no-loss" }) { accessToken user { tenant { id } } } }`);
    const token = signup.accessToken;
    const tenantId = signup.user.tenant.id;
    const { createChannel } = await platform.gql<{ createChannel: { id: string } }>(
      'mutation { createChannel(input: { name: "no-loss" }) { id } }',
      {},
      token,
    );
    const channelId = createChannel.id;
    const createThing = async (name: string) => {
      const { createThing: created } = await platform.gql<{
        createThing: { key: string; thing: { id: string } };
      }>(`mutation { createThing(input: { name: "${name}" }) { key thing { id } } }`, {}, token);
      await platform.gql(
        `mutation { connect(thingId: "${created.thing.id}", channelId: "${channelId}") }`,
        {},
        token,
      );
      return { id: created.thing.id, key: created.key };
    };
    const mqttThing = await createThing('mqtt-sensor');
    const httpThing = await createThing('http-sensor');

    // the bridges see the connections (credentials bucket) before the run starts; neither probe
    // stores anything: a refused SUBSCRIBE vs a granted one, a 403 vs a 400 for an invalid SenML body
    await waitFor(
      async () => {
        const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, {
          username: mqttThing.id,
          password: mqttThing.key,
          protocolVersion: 4,
          reconnectPeriod: 0,
        });
        try {
          const granted = await probe.subscribeAsync(`channels/${channelId}/messages`, { qos: 1 });
          return granted[0]?.qos === 1;
        } finally {
          await probe.endAsync();
        }
      },
      { timeoutMs: 10_000, what: 'the MQTT bridge sees the connection' },
    );
    const httpUrl = `http://127.0.0.1:${ports.http}/channels/${channelId}/messages`;
    await waitFor(
      async () => {
        const res = await fetch(httpUrl, {
          method: 'POST',
          headers: { authorization: `Thing ${httpThing.key}`, 'content-type': 'application/senml+json' },
          body: '[{"n":"probe","v":"not a number"}]',
        });
        await res.body?.cancel();
        return res.status === 400;
      },
      { timeoutMs: 10_000, what: 'the HTTP bridge sees the connection' },
    );

    // --- the clients
    const mqttIds = Array.from({ length: N }, (_, i) => `mqtt-${pad(i)}`);
    const httpIds = Array.from({ length: N }, (_, i) => `http-${pad(i)}`);
    const sentAt = new Map<string, number[]>(); // MQTT: every PUBLISH of an id on the wire
    const mqttAcked = new Map<string, { at: number; sends: number }>();
    const httpAcked = new Map<string, { at: number; seq: number; attempts: number; replayed: boolean }>();
    const mqttErrors: Record<string, number> = {};
    const httpRetries: Record<string, number> = {};
    const mqttRepublished: string[] = [];
    let mqttReconnects = 0;
    let mqttInflight = 0;
    let httpInflight = 0;

    client = mqtt.connect(`mqtt://127.0.0.1:${ports.mqtt}`, {
      clientId: MQTT_CLIENT_ID,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 200,
      connectTimeout: 5_000,
      reconnectOnConnackError: true,
      username: mqttThing.id,
      password: mqttThing.key,
    });
    client.on('error', (err) => bump(mqttErrors, errorCode(err)));
    client.on('reconnect', () => {
      mqttReconnects++;
    });
    client.on('packetsend', (packet: Packet) => {
      if (packet.cmd !== 'publish') return;
      const id = (JSON.parse(String(packet.payload)) as { vs: string }[])[0]?.vs ?? '';
      const sends = sentAt.get(id) ?? [];
      sends.push(Date.now());
      sentAt.set(id, sends);
    });
    const mqttClient = client;
    await waitFor(() => mqttClient.connected, { timeoutMs: 10_000, what: 'MQTT client connected' });

    const topic = `channels/${channelId}/messages`;
    const sendMqtt = async (id: string): Promise<void> => {
      const payload = JSON.stringify([{ n: 'id', vs: id }]);
      // MQTT.js keeps an unacknowledged QoS1 publish (clean: false) in its outgoing store and resends it
      // with the same packet id after reconnecting: the promise resolves on the PUBACK of a resend.
      for (;;) {
        try {
          await mqttClient.publishAsync(topic, payload, { qos: 1 });
          mqttAcked.set(id, { at: Date.now(), sends: sentAt.get(id)?.length ?? 0 });
          return;
        } catch (err) {
          // only for a publish queued while MQTT.js replayed its store and the connection closed: it
          // was never sent, so publishing it again is safe; if it was sent, the log may hold it twice
          bump(mqttErrors, `publish rejected: ${(err as Error).message}`);
          mqttRepublished.push(id);
          await sleep(100);
        }
      }
    };
    const sendHttp = async (id: string): Promise<void> => {
      const body = JSON.stringify([{ n: 'id', vs: id }]);
      for (let attempt = 1; ; attempt++) {
        let outcome: string;
        try {
          const res = await fetch(httpUrl, {
            method: 'POST',
            headers: {
              authorization: `Thing ${httpThing.key}`,
              'content-type': 'application/senml+json',
              'idempotency-key': id,
            },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          const text = await res.text();
          if (res.status === 202) {
            const answer = JSON.parse(text) as { id: string; seq: number };
            assert.equal(answer.id, id);
            const replayed = res.headers.get('idempotent-replayed') === 'true';
            httpAcked.set(id, { at: Date.now(), seq: answer.seq, attempts: attempt, replayed });
            return;
          }
          if (res.status !== 429 && res.status < 500)
            throw new FatalError(`${id}: HTTP ${res.status} ${text}`);
          outcome = `HTTP ${res.status}`;
        } catch (err) {
          if (err instanceof FatalError || err instanceof assert.AssertionError) throw err;
          outcome = errorCode(err);
        }
        bump(httpRetries, outcome);
        await sleep(Math.min(1_000, 50 * attempt));
      }
    };

    // --- the run: batches at 90/s per protocol; the bridges are killed twice, right after a batch
    const kills: {
      atMs: number;
      ackedMqtt: number;
      ackedHttp: number;
      inflightMqtt: number;
      inflightHttp: number;
      pids: { mqtt: number; http: number };
    }[] = [];
    const killedPids = new Set<number>();
    const tasks: Promise<void>[] = [];
    const runStarted = Date.now();
    let fatal: unknown;
    const track = (send: Promise<void>, done: () => void) =>
      tasks.push(
        send.then(done, (err: unknown) => {
          done();
          fatal ??= err;
        }),
      );
    let nextMqtt = 0;
    let nextHttp = 0;
    let pendingKill: { mqtt: number; http: number } | undefined;
    const deadline = runStarted + 120_000;
    while (nextMqtt < N || nextHttp < N) {
      if (fatal) throw fatal;
      if (Date.now() > deadline) throw new Error('the run did not dispatch every message within 120 s');
      const tick = Date.now();
      for (let b = 0; b < BATCH && nextMqtt < N && mqttInflight < WINDOW; b++) {
        mqttInflight++;
        track(sendMqtt(mqttIds[nextMqtt++]!), () => mqttInflight--);
      }
      for (let b = 0; b < BATCH && nextHttp < N && httpInflight < WINDOW; b++) {
        httpInflight++;
        track(sendHttp(httpIds[nextHttp++]!), () => httpInflight--);
      }
      if (pendingKill) {
        await sleep(KILL_DELAY_MS);
        const inflightMqtt = mqttInflight;
        const inflightHttp = httpInflight;
        process.kill(pendingKill.mqtt, 'SIGKILL');
        process.kill(pendingKill.http, 'SIGKILL');
        killedPids.add(pendingKill.mqtt).add(pendingKill.http);
        kills.push({
          atMs: Date.now() - runStarted,
          ackedMqtt: mqttAcked.size,
          ackedHttp: httpAcked.size,
          inflightMqtt,
          inflightHttp,
          pids: pendingKill,
        });
        pendingKill = undefined;
      } else if (kills.length < KILL_AT.length) {
        const due = mqttAcked.size + httpAcked.size >= 2 * N * KILL_AT[kills.length]!;
        if (due) {
          // both bridges up, with pids not killed before (the previous round's restarts are done)
          const h = await platform.health();
          const mqttCheck = h.body.checks['component:mqtt'];
          const httpCheck = h.body.checks['component:http'];
          const pids = { mqtt: mqttCheck?.detail?.pid ?? 0, http: httpCheck?.detail?.pid ?? 0 };
          const upAgain =
            mqttCheck?.status === 'up' &&
            httpCheck?.status === 'up' &&
            pids.mqtt > 0 &&
            pids.http > 0 &&
            !killedPids.has(pids.mqtt) &&
            !killedPids.has(pids.http);
          if (upAgain) pendingKill = pids; // killed right after the next batch went out
        }
      }
      await sleep(Math.max(0, tick + TICK_MS - Date.now()));
    }
    // every message dispatched; wait for every acknowledgement (retries included)
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      Promise.all(tasks).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(10_000, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (fatal) throw fatal;
    if (!settled) {
      const unackedMqtt = mqttIds.filter((id) => !mqttAcked.has(id));
      const unackedHttp = httpIds.filter((id) => !httpAcked.has(id));
      assert.fail(
        `not every message was acknowledged: MQTT ${unackedMqtt.length} unacked (${some(unackedMqtt)}), ` +
          `HTTP ${unackedHttp.length} unacked (${some(unackedHttp)}); MQTT errors ${JSON.stringify(mqttErrors)}`,
      );
    }
    const runMs = Date.now() - runStarted;
    assert.equal(mqttAcked.size, N);
    assert.equal(httpAcked.size, N);
    assert.equal(kills.length, KILL_AT.length, `the bridges were killed ${kills.length} times`);

    // --- what the log holds
    const stored = await readLog(nats, tenantId);
    const byId = new Map<string, Stored[]>();
    for (const entry of stored) {
      const id = entry.protocol === 'http' ? entry.messageId : entry.bodyId;
      byId.set(id, [...(byId.get(id) ?? []), entry]);
    }
    const missing = [...mqttIds, ...httpIds].filter((id) => !byId.has(id));
    const duplicated = [...byId].filter(([, entries]) => entries.length > 1);
    const unexpected = [...byId.keys()].filter((id) => !mqttAcked.has(id) && !httpAcked.has(id));
    const httpBodyMismatch = stored.filter((e) => e.protocol === 'http' && e.bodyId !== e.messageId);
    const httpSeqMismatch = httpIds.filter((id) => {
      const entries = byId.get(id);
      return entries?.length === 1 && entries[0]!.seq !== httpAcked.get(id)!.seq;
    });
    const mqttIdPattern = new RegExp(`^mqtt:${MQTT_CLIENT_ID}:\\d+:[\\w-]+$`);
    const mqttBadMessageIds = stored.filter((e) => e.protocol === 'mqtt' && !mqttIdPattern.test(e.messageId));

    // retransmissions: MQTT.js resends (same packet id) and HTTP retries (same Idempotency-Key) whose
    // first copy was already in the log before the kill, so the log deduplicated the retry
    const mqttResent = mqttIds.filter((id) => (sentAt.get(id)?.length ?? 0) > 1);
    const mqttDedupedResends = mqttResent.filter((id) => {
      const entry = byId.get(id)?.[0];
      const sends = sentAt.get(id)!;
      return entry !== undefined && entry.received < sends[sends.length - 1]!;
    });
    const httpRetried = httpIds.filter((id) => httpAcked.get(id)!.attempts > 1);
    const httpReplayed = httpIds.filter((id) => httpAcked.get(id)!.replayed);

    const final = await waitFor(
      async () => {
        const h = await platform.health();
        return h.code === 200 && h.body;
      },
      { timeoutMs: 30_000, what: 'telly up healthy after the run' },
    );
    const restarts = {
      mqtt: final.checks['component:mqtt']?.detail?.restarts,
      http: final.checks['component:http']?.detail?.restarts,
    };
    const summary = {
      n: N,
      upAfterMs,
      runMs,
      kills,
      restarts,
      acked: { mqtt: mqttAcked.size, http: httpAcked.size },
      stored: { total: stored.length, distinctIds: byId.size },
      missing: missing.length,
      duplicated: duplicated.length,
      unexpected: unexpected.length,
      mqtt: {
        resent: mqttResent.length,
        resentIds: mqttResent,
        dedupedResends: mqttDedupedResends.length,
        dedupedIds: mqttDedupedResends,
        republished: mqttRepublished.length,
        reconnects: mqttReconnects,
        errors: mqttErrors,
      },
      http: {
        retried: httpRetried.length,
        replayed: httpReplayed.length,
        replayedIds: httpReplayed,
        retryReasons: httpRetries,
      },
    };
    t.diagnostic(`no-loss summary ${JSON.stringify(summary)}`);

    const detail = (entries: Stored[]) =>
      entries.map((e) => `seq ${e.seq} ${e.messageId} received ${e.received}`).join('; ');
    assert.deepEqual(
      missing,
      [],
      `LOSS: ${missing.length} acknowledged messages are not in the log: ${some(missing)}`,
    );
    assert.deepEqual(
      duplicated.map(([id]) => id),
      [],
      `DUPLICATES: ${duplicated.length} messages are in the log more than once: ${duplicated
        .slice(0, 20)
        .map(([id, entries]) => `${id} ×${entries.length} (${detail(entries)})`)
        .join(' | ')}; MQTT re-publishes by the test: ${some(mqttRepublished)}`,
    );
    assert.deepEqual(unexpected, [], 'the log holds only messages the test sent');
    assert.equal(stored.length, 2 * N, 'the log holds 2N messages');
    assert.deepEqual(
      httpBodyMismatch,
      [],
      'Telly-Message-Id is the Idempotency-Key of the body sent with it',
    );
    assert.deepEqual(httpSeqMismatch, [], 'a 202 (first or replayed) names the seq of the one stored copy');
    assert.deepEqual(
      mqttBadMessageIds,
      [],
      'MQTT messages are deduplicated by client, packet id and payload',
    );
    assert.ok(
      (restarts.mqtt ?? 0) >= KILL_AT.length && (restarts.http ?? 0) >= KILL_AT.length,
      `both bridges were restarted after each kill: ${JSON.stringify(restarts)}`,
    );

    await client.endAsync();
    client = undefined;
    assert.equal(await platform.stop(), 0, platform.output().slice(-5_000));
  } finally {
    client?.end(true);
    await platform.stop(); // no-op when already stopped; SIGINT stops its detached children too
  }
});
