// The real `telly up` with models on streams: a digit classifier bound to a channel answers an
// image sent with mosquitto_pub on the channel itself (an MQTT subscriber receives it), as
// telemetry and as events; a soil anomaly model flags a bad reading, which a rule turns into an
// alert; an update under load loses no prediction; undeploy stops the results.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { waitFor } from '@telly/harness';
import { REFERENCE_MODELS, referenceModel, renderDigit, withDescription } from '@telly/inference/testing';
import { connectNats } from '@telly/runtime';
import { decodeEvent, STREAMS } from '@telly/schemas';
import { createClient } from 'graphql-ws';
import mqtt from 'mqtt';
import { parseConfig } from '../config.ts';
import { type Platform, provisionDevice, startPlatform } from '../testing/platform.ts';
import { platformNats } from './dependencies.ts';

const run = promisify(execFile);
let platform: Platform;
let nc: NatsConnection;
let device: Awaited<ReturnType<typeof provisionDevice>>;
/** Before the first image: a replay's range starts here. */
const testsStarted = new Date();

before(async () => {
  platform = await startPlatform();
  device = await provisionDevice(platform, 'inference@example.com');
  nc = await connectNats((await platformNats(parseConfig(platform.env))).nats, 'inference-test');
});
after(async () => {
  if (process.env.INF_DEBUG)
    console.log(
      platform
        ?.output()
        .split('\n')
        .filter((l) => /inference|error/.test(l))
        .slice(-40)
        .join('\n'),
    );
  await nc?.close();
  assert.equal(await platform?.stop(), 0);
});

const UPLOAD = `mutation($input: UploadModelInput!) { uploadModel(input: $input) { id deployedVersion latestVersion } }`;

async function upload(file: Uint8Array, name: string, deploy: boolean) {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({ query: UPLOAD, variables: { input: { name, deploy, file: null } } }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([new Uint8Array(file)]), `${name}.onnx`);
  const res = await fetch(`${platform.apiUrl}/graphql`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${device.token}`, 'graphql-require-preflight': '1' },
  });
  const body = (await res.json()) as {
    data?: { uploadModel: { id: string; deployedVersion: number | null } };
    errors?: unknown;
  };
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data?.uploadModel as { id: string; deployedVersion: number | null };
}

const senmlImage = (png: Uint8Array) =>
  JSON.stringify([{ n: 'image', vd: Buffer.from(png).toString('base64url') }]);

function publish(payload: string, subtopic = 'camera'): Promise<unknown> {
  return run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(platform.ports.mqtt),
    '-q',
    '1',
    '-u',
    device.thingId,
    '-P',
    device.key,
    '-t',
    `channels/${device.channelId}/messages/${subtopic}`,
    '-m',
    payload,
  ]);
}

/** inference.* events of the tenant's thing, from EVENTS. */
interface InferenceEvent {
  type: string;
  data: { modelId: string; modelVersion: number; messageSeq?: number };
}

async function inferenceEvents(): Promise<InferenceEvent[]> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const subject = `evt.*.inference.${device.thingId}`;
  const { state } = await jsm.streams.info(STREAMS.EVENTS.name, { subjects_filter: subject });
  if (state.messages === 0) return [];
  const consumer = await js.consumers.get(STREAMS.EVENTS.name, { filter_subjects: [subject] });
  const out: InferenceEvent[] = [];
  const batch = await consumer.fetch({ max_messages: 10_000, expires: 2_000 });
  for await (const m of batch) {
    out.push(decodeEvent(m.data) as unknown as InferenceEvent);
    if (m.info.pending === 0) break;
  }
  await consumer.delete().catch(() => false);
  return out;
}

test('digits on a channel: MQTT image in, answer on the channel, telemetry and events', async () => {
  const push = await platform.cli([
    'models',
    'push',
    fileURLToPath(REFERENCE_MODELS.digits),
    '--name',
    'digits',
    '--deploy',
    '--api',
    platform.apiUrl,
    '--token',
    device.token,
  ]);
  assert.equal(push.code, 0, push.stderr);
  assert.match(
    push.stdout,
    /^digits [0-9a-f-]{36}: version 1 \(204982 bytes, sha256:[0-9a-f]{64}\) deployed version 1\n$/,
  );
  const { models } = await platform.gql<{ models: { id: string; name: string }[] }>(
    '{ models { id name } }',
    {},
    device.token,
  );
  const digits = { id: models.find((m) => m.name === 'digits')?.id ?? '' };
  await platform.gql(
    'mutation($i: BindModelInput!) { bindModel(input: $i) { bindings { id } } }',
    { i: { modelId: digits.id, channelId: device.channelId, measurements: ['image'] } },
    device.token,
  );
  const listener = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.ports.mqtt}`, {
    username: device.thingId,
    password: device.key,
    clientId: 'inference-listener',
  });
  const answers: { label: string; probability: number }[] = [];
  listener.on('message', (_topic, payload) => {
    const records = JSON.parse(payload.toString()) as { n: string; vs?: string; v?: number }[];
    answers.push({
      label: records.find((r) => r.n === 'digits:label')?.vs ?? '',
      probability: records.find((r) => r.n === 'digits:probability')?.v ?? -1,
    });
  });
  await listener.subscribeAsync(`channels/${device.channelId}/messages/inference/digits`, { qos: 1 });
  // a dashboard's live telemetry of the thing: the results are points like any reading
  const live = createClient({
    url: `${platform.apiUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${device.token}` },
    retryAttempts: 0,
  });
  const livePoints: { name: string; stringValue: string | null; subtopic: string }[] = [];
  const liveErrors: unknown[] = [];
  const unsubscribe = live.subscribe<{
    telemetry: { name: string; stringValue: string | null; subtopic: string };
  }>(
    {
      query: 'subscription($t: ID!) { telemetry(thingId: $t) { name stringValue subtopic } }',
      variables: { t: device.thingId },
    },
    {
      next: (r) => {
        if (r.data) livePoints.push(r.data.telemetry);
        if (r.errors) liveErrors.push(...r.errors);
      },
      error: (e) => liveErrors.push(e),
      complete: () => {},
    },
  );
  // the subscription's consumer starts asynchronously: probe until it delivers
  await waitFor(
    async () => {
      await publish(JSON.stringify([{ n: 'probe', v: 0 }]), 'probe');
      return livePoints.length > 0;
    },
    { timeoutMs: 15_000, intervalMs: 200, what: 'the telemetry subscription live' },
  );
  const sent: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    for (const index of [0, 1]) {
      await publish(senmlImage(await renderDigit(digit, index, 'png')));
      sent.push(digit);
    }
  }
  await waitFor(() => answers.length >= sent.length, { what: 'an answer to every image', timeoutMs: 30_000 });
  const right = answers.filter((a, i) => a.label === String(sent[i])).length;
  console.log(`MQTT image upload answered on the channel: ${right}/${sent.length}`);
  assert.ok(right / sent.length >= 0.9);
  assert.ok(answers.every((a) => a.probability > 0 && a.probability <= 1));
  await listener.endAsync();
  const liveLabels = () => livePoints.filter((p) => p.name === 'digits:label');
  await waitFor(() => liveLabels().length >= sent.length, {
    what: 'every digits:label point on the telemetry subscription',
  });
  unsubscribe();
  await live.dispose();
  assert.deepEqual(liveErrors, []);
  assert.deepEqual(
    liveLabels().map((p) => p.stringValue),
    answers.map((a) => a.label),
    'the subscription delivers the results as they are published, in order',
  );
  assert.ok(liveLabels().every((p) => p.subtopic === 'inference/digits'));
  assert.ok(livePoints.some((p) => p.name === 'digits:probability'));

  const { telemetry } = await waitFor(
    async () => {
      const data = await platform.gql<{
        telemetry: { name: string; stringValue: string | null; subtopic: string }[];
      }>(
        'query($t: ID!) { telemetry(thingId: $t, name: "digits:label", limit: 100) { name stringValue subtopic } }',
        { t: device.thingId },
        device.token,
      );
      return data.telemetry.length >= sent.length ? data : undefined;
    },
    { what: 'digits:label telemetry' },
  );
  assert.equal(telemetry[0]?.subtopic, 'inference/digits');
  const events = await inferenceEvents();
  assert.equal(events.filter((e) => e.type === 'inference.completed').length, sent.length);
  assert.equal(events.filter((e) => e.type === 'inference.failed').length, 0);
});

test('a corrupt image is inference.failed and does not hold the stream', async () => {
  const before = (await inferenceEvents()).length;
  await publish(JSON.stringify([{ n: 'image', vd: Buffer.from('not an image').toString('base64url') }]));
  await publish(senmlImage(await renderDigit(3, 2, 'png')));
  const events = await waitFor(async () => {
    const all = await inferenceEvents();
    return all.length >= before + 2 ? all.slice(before) : undefined;
  });
  assert.deepEqual(
    events.map((e) => e.type),
    ['inference.failed', 'inference.completed'],
  );
});

test('an update under load loses no prediction; undeploy stops results', async () => {
  const digits = await platform.gql<{ models: { id: string; name: string }[] }>(
    '{ models { id name } }',
    {},
    device.token,
  );
  const id = digits.models.find((m) => m.name === 'digits')?.id ?? '';
  const v2 = await upload(withDescription(referenceModel('digits'), 'digits v2'), 'digits', false);
  assert.equal(v2.deployedVersion, 1, 'an upload does not deploy unless asked');
  const before = (await inferenceEvents()).length;
  const png = await renderDigit(8, 0, 'png');
  let deployed = false;
  const load = (async () => {
    for (let i = 0; i < 60; i++) {
      await publish(senmlImage(png), 'load');
      if (i === 20) {
        await platform.gql(
          'mutation($id: ID!) { deployModel(id: $id, version: 2) { deployedVersion } }',
          { id },
          device.token,
        );
        deployed = true;
      }
    }
  })();
  await load;
  assert.ok(deployed);
  const events = await waitFor(
    async () => {
      const all = (await inferenceEvents()).slice(before);
      return all.length >= 60 ? all : undefined;
    },
    { what: '60 results', timeoutMs: 60_000 },
  );
  assert.equal(
    events.filter((e) => e.type === 'inference.failed').length,
    0,
    'no failed prediction during the update',
  );
  assert.equal(events.length, 60);
  const versions = new Set(events.map((e) => e.data.modelVersion));
  assert.ok(versions.has(2), 'the new version serves after the deploy');

  // undeploy: a soil reading after the images is the marker that the processor went past them
  const soil = await upload(referenceModel('soilAnomaly'), 'soil', true);
  await platform.gql(
    'mutation($i: BindModelInput!) { bindModel(input: $i) { id } }',
    {
      i: {
        modelId: soil.id,
        channelId: device.channelId,
        measurements: ['temperature', 'humidity', 'moisture'],
      },
    },
    device.token,
  );
  // a rule on the model's own telemetry: results alert like any reading
  const { createRule } = await platform.gql<{ createRule: { id: string } }>(
    'mutation($i: CreateRuleInput!) { createRule(input: $i) { id } }',
    {
      i: {
        name: 'soil anomaly',
        thingId: device.thingId,
        measurement: 'soil:anomaly',
        condition: { op: 'EQ', valueBoolean: true },
        message: '{thing}: the soil model flags a reading',
      },
    },
    device.token,
  );
  await platform.gql('mutation($id: ID!) { undeployModel(id: $id) { status } }', { id }, device.token);
  const count = (await inferenceEvents()).length;
  await publish(senmlImage(png));
  await publish(
    JSON.stringify([
      { n: 'temperature', v: 48 },
      { n: 'humidity', v: 5 },
      { n: 'moisture', v: 95 },
    ]),
    'soil',
  );
  const after = await waitFor(async () => {
    const all = (await inferenceEvents()).slice(count);
    return all.length >= 1 ? all : undefined;
  });
  assert.deepEqual(
    after.map((e) => e.data.modelId),
    [soil.id],
    'only the soil model answered: digits is undeployed',
  );
  const { latest } = await waitFor(async () => {
    const data = await platform.gql<{
      latest: { name: string; value: number | null; boolValue: boolean | null }[];
    }>(
      'query($t: ID!) { latest(thingId: $t) { name value boolValue } }',
      { t: device.thingId },
      device.token,
    );
    return data.latest.some((p) => p.name === 'soil:anomaly') ? data : undefined;
  });
  assert.equal(latest.find((p) => p.name === 'soil:anomaly')?.boolValue, true, 'the bad reading is flagged');
  const { alerts } = await waitFor(
    async () => {
      const data = await platform.gql<{
        alerts: { totalCount: number; nodes: { ruleId: string; status: string }[] };
      }>(
        'query($r: ID!) { alerts(ruleId: $r) { totalCount nodes { ruleId status } } }',
        { r: createRule.id },
        device.token,
      );
      return data.alerts.totalCount > 0 ? data : undefined;
    },
    { what: 'an alert raised by the rule on soil:anomaly' },
  );
  assert.equal(alerts.nodes[0]?.status, 'OPEN');
});

const REPLAY = `mutation($b: ID!, $from: DateTime!, $to: DateTime!) {
  replayBinding(bindingId: $b, from: $from, to: $to) { id status }
}`;
const REPLAY_JOB = `query($id: ID!) {
  replayJob(id: $id) { status progress error bindingId result { version messages completed failed skipped } }
}`;

interface ReplayJobShape {
  status: string;
  progress: number;
  error: string | null;
  bindingId: string;
  result: { version: number; messages: number; completed: number; failed: number; skipped: number } | null;
}

/** Replays the binding over every message of these tests, polled to its end. */
async function replay(bindingId: string): Promise<ReplayJobShape> {
  const { replayBinding } = await platform.gql<{ replayBinding: { id: string } }>(
    REPLAY,
    { b: bindingId, from: testsStarted.toISOString(), to: new Date(Date.now() + 1_000).toISOString() },
    device.token,
  );
  return waitFor(
    async () => {
      const { replayJob } = await platform.gql<{ replayJob: ReplayJobShape }>(
        REPLAY_JOB,
        { id: replayBinding.id },
        device.token,
      );
      return replayJob.status === 'RUNNING' || replayJob.status === 'QUEUED' ? undefined : replayJob;
    },
    { what: 'the replay to end', timeoutMs: 60_000 },
  );
}

test('replaying a binding back-fills the new version once: live results and earlier replays are kept', async () => {
  const { models } = await platform.gql<{
    models: { id: string; name: string; bindings: { id: string }[] }[];
  }>('{ models { id name bindings { id } } }', {}, device.token);
  const digits = models.find((m) => m.name === 'digits');
  const bindingId = digits?.bindings[0]?.id ?? '';
  // digits was undeployed above: a replay runs the deployed version only
  const undeployed = await fetch(`${platform.apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${device.token}` },
    body: JSON.stringify({
      query: REPLAY,
      variables: { b: bindingId, from: testsStarted.toISOString(), to: new Date().toISOString() },
    }),
  });
  const refused = (await undeployed.json()) as { errors?: { extensions: { code: string } }[] };
  assert.equal(refused.errors?.[0]?.extensions.code, 'NOT_ALLOWED');
  await platform.gql(
    'mutation($id: ID!) { deployModel(id: $id, version: 2) { deployedVersion } }',
    { id: digits?.id },
    device.token,
  );
  const v2Completed = (events: InferenceEvent[]) =>
    events.filter(
      (e) => e.type === 'inference.completed' && e.data.modelId === digits?.id && e.data.modelVersion === 2,
    );
  const before = await inferenceEvents();
  const liveV2 = new Set(v2Completed(before).map((e) => e.data.messageSeq));
  assert.ok(liveV2.size > 0, 'the update under load left live results of version 2');
  const labelsBefore = await labelCount();

  const first = await replay(bindingId);
  assert.equal(first.status, 'DONE', first.error ?? '');
  assert.equal(first.progress, 1);
  assert.equal(first.bindingId, bindingId);
  // 20 digits, a corrupt image and one more, 60 under load, one after the undeploy
  const images = 20 + 2 + 60 + 1;
  assert.equal(first.result?.version, 2);
  assert.equal(first.result?.skipped, liveV2.size, 'what version 2 answered live is not published again');
  assert.equal(first.result?.failed, 1, 'the corrupt image');
  assert.equal(first.result?.completed, images - 1 - liveV2.size);
  const afterFirst = await waitFor(async () => {
    const all = v2Completed(await inferenceEvents());
    return all.length >= images - 1 ? all : undefined;
  });
  const seqs = afterFirst.map((e) => e.data.messageSeq);
  assert.equal(new Set(seqs).size, seqs.length, 'one result of version 2 per image');
  assert.equal(seqs.length, images - 1);
  const labels = await waitFor(async () => {
    const n = await labelCount();
    return n >= labelsBefore + (first.result?.completed ?? 0) ? n : undefined;
  });
  assert.equal(labels, labelsBefore + (first.result?.completed ?? 0), 'a digits:label point per new result');

  // again: everything is in the log already, nothing is stored twice
  const second = await replay(bindingId);
  assert.equal(second.status, 'DONE', second.error ?? '');
  assert.equal(second.result?.completed, 0);
  assert.equal(second.result?.skipped, images - 1);
  assert.equal(v2Completed(await inferenceEvents()).length, images - 1);
  assert.equal(await labelCount(), labels);

  // bounded and validated: at most 31 days, an unknown binding is not found
  const tooLong = await fetch(`${platform.apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${device.token}` },
    body: JSON.stringify({
      query: REPLAY,
      variables: { b: bindingId, from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' },
    }),
  });
  const long = (await tooLong.json()) as { errors?: { message: string; extensions: { code: string } }[] };
  assert.equal(long.errors?.[0]?.extensions.code, 'VALIDATION_FAILED');
  assert.match(long.errors?.[0]?.message ?? '', /to.*31 days/);
});

/** digits:label points of the thing, as the telemetry projection stored them. */
async function labelCount(): Promise<number> {
  const { telemetry } = await platform.gql<{ telemetry: unknown[] }>(
    'query($t: ID!) { telemetry(thingId: $t, name: "digits:label", limit: 1000) { time } }',
    { t: device.thingId },
    device.token,
  );
  return telemetry.length;
}
