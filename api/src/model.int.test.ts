import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { waitFor } from '@telly/harness';
import { referenceModel, renderDigit, renderDigits, withPadding } from '@telly/inference/testing';
import { createLogger, type RunningProcessor, runProcessor } from '@telly/runtime';
import { telemetryProjection } from '@telly/telemetry-pg';
import { gql, ok, publishReading, type Signed, type Stack, signup, startStack } from './testing/stack.ts';

const run = promisify(execFile);
let stack: Stack;
let owner: Signed;
let projection: RunningProcessor;

/** The stack's `TELLY_MAX_MODEL_BYTES`: 4 MiB, above the 1 MiB every other request keeps. */
const MAX_MODEL_BYTES = 4 * 1024 * 1024;

before(async () => {
  stack = await startStack({ maxModelBytes: MAX_MODEL_BYTES });
  owner = await signup(stack.url, 'models@example.com', 'models-co');
  projection = await runProcessor(telemetryProjection(stack.pool), {
    nc: stack.nc,
    logger: createLogger('model-test', { LOG_LEVEL: 'error' }),
  });
});
after(async () => {
  await projection?.stop();
  await stack?.stop();
});

const UPLOAD = `mutation($input: UploadModelInput!) {
  uploadModel(input: $input) { id name status deployedVersion latestVersion labels
    versions { version sha256 bytes inputs { name type shape } outputs { name shape } preprocessing postprocessing deployed } }
}`;

/** A GraphQL multipart request (graphql-multipart-request-spec), as Apollo's and urql's clients send it. */
async function upload(file: Uint8Array, vars: Record<string, unknown>, token = owner.accessToken) {
  const res = await postUpload(file, vars, token);
  return (await res.json()) as {
    data?: { uploadModel: Record<string, unknown> & { id: string } };
    errors?: { message: string; extensions: { code: string } }[];
  };
}

/** The upload's response as it came (a 413 is a problem, not GraphQL). */
function postUpload(file: Uint8Array, vars: Record<string, unknown>, token = owner.accessToken) {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: UPLOAD, variables: { input: { ...vars, file: null } } }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([new Uint8Array(file)]), 'model.onnx');
  return fetch(`${stack.url}/graphql`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${token}`, 'graphql-require-preflight': '1' },
  });
}

const PREDICT = `mutation($id: ID!, $input: PredictInput!) {
  predict(modelId: $id, input: $input) { modelId version results { predictions { label probability } outputs } }
}`;

describe('models over GraphQL and the TF-Serving REST route', () => {
  let modelId = '';

  test('upload reads the model; a file that is not ONNX is refused', async () => {
    const bad = await upload(new TextEncoder().encode('not a model'), { name: 'digits' });
    assert.equal(bad.errors?.[0]?.extensions.code, 'VALIDATION_FAILED');
    assert.match(bad.errors?.[0]?.message ?? '', /input\.file: not an ONNX model/);

    const res = await upload(referenceModel('digits'), { name: 'digits' });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const m = res.data?.uploadModel as unknown as {
      id: string;
      status: string;
      labels: string[];
      versions: { version: number; sha256: string; inputs: { shape: number[] }[]; deployed: boolean }[];
    };
    modelId = m.id;
    assert.equal(m.status, 'UPLOADED');
    assert.equal(m.labels.length, 10);
    assert.deepEqual(m.versions[0]?.inputs[0]?.shape, [-1, 784]);
    assert.match(m.versions[0]?.sha256 ?? '', /^sha256:[0-9a-f]{64}$/);

    const code = (await gql(stack.url, PREDICT, { id: modelId, input: { tensor: [0] } }, owner.accessToken))
      .errors?.[0]?.extensions?.code;
    assert.equal(code, 'NOT_ALLOWED', 'an undeployed model does not predict');
  });

  test('deploy, then digits rendered as PNG/JPEG/BMP/TIFF classify through predict (≥ 90 %)', async () => {
    const { deployModel } = await ok<{ deployModel: { status: string; deployedVersion: number } }>(
      stack.url,
      'mutation($id: ID!) { deployModel(id: $id) { status deployedVersion } }',
      { id: modelId },
      owner.accessToken,
    );
    assert.deepEqual(deployModel, { status: 'DEPLOYED', deployedVersion: 1 });
    const images = await renderDigits(5);
    let right = 0;
    for (const img of images) {
      const data = await ok<{ predict: { results: { predictions: { label: string }[] }[] } }>(
        stack.url,
        PREDICT,
        { id: modelId, input: { image: Buffer.from(img.file).toString('base64') } },
        owner.accessToken,
      );
      if (data.predict.results[0]?.predictions[0]?.label === String(img.digit)) right++;
    }
    console.log(
      `GraphQL predict: ${right}/${images.length} = ${((right / images.length) * 100).toFixed(1)} %`,
    );
    assert.ok(right / images.length >= 0.9);
  });

  test('bad input is a VALIDATION_FAILED naming what is wrong', async () => {
    const wrongShape = await gql(
      stack.url,
      PREDICT,
      { id: modelId, input: { tensor: [1, 2] } },
      owner.accessToken,
    );
    assert.equal(wrongShape.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED');
    assert.match(wrongShape.errors?.[0]?.message ?? '', /2 values given; input image \[-1, 784\] takes 784/);
    const corrupt = await gql(
      stack.url,
      PREDICT,
      { id: modelId, input: { image: 'aGVsbG8=' } },
      owner.accessToken,
    );
    assert.match(corrupt.errors?.[0]?.message ?? '', /the image does not decode/);
  });

  test('TF-Serving route: curl status and :predict', async () => {
    const auth = `authorization: Bearer ${owner.accessToken}`;
    const status = await run('curl', ['-s', '-H', auth, `${stack.url}/v1/models/digits`]);
    assert.deepEqual(JSON.parse(status.stdout), {
      model_version_status: [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    const digits = await renderDigits(2, ['png', 'bmp']);
    const body = JSON.stringify({
      instances: digits.map((d) => ({ b64: Buffer.from(d.file).toString('base64') })),
    });
    const file = join(await mkdtemp(join(tmpdir(), 'tf-')), 'body.json');
    await writeFile(file, body);
    const res = await run('curl', [
      '-s',
      '-H',
      auth,
      '-H',
      'content-type: application/json',
      '--data-binary',
      `@${file}`,
      `${stack.url}/v1/models/digits:predict`,
    ]);
    const { predictions } = JSON.parse(res.stdout) as { predictions: { probabilities: number[] }[] };
    assert.equal(predictions.length, digits.length);
    const right = predictions.filter(
      (p, i) => p.probabilities.indexOf(Math.max(...p.probabilities)) === digits[i]?.digit,
    );
    console.log(`TF-Serving :predict (curl): ${right.length}/${digits.length}`);
    assert.ok(right.length / digits.length >= 0.9);
    const missing = await run('curl', [
      '-s',
      '-w',
      '%{http_code}',
      '-H',
      auth,
      `${stack.url}/v1/models/nope:predict`,
      '-d',
      '{}',
    ]);
    assert.match(missing.stdout, /Servable not found.*404$/);
    const anon = await run('curl', ['-s', '-w', '%{http_code}', `${stack.url}/v1/models/digits`]);
    assert.match(anon.stdout, /401$/);
  });

  test('a predict job runs to done, and is not found by another tenant', async () => {
    const img = Buffer.from(await renderDigit(4, 1, 'jpeg')).toString('base64');
    const { submitPredictJob } = await ok<{ submitPredictJob: { id: string; status: string } }>(
      stack.url,
      'mutation($id: ID!, $input: PredictInput!) { submitPredictJob(modelId: $id, input: $input) { id status } }',
      { id: modelId, input: { image: img } },
      owner.accessToken,
    );
    assert.ok(['QUEUED', 'RUNNING', 'DONE'].includes(submitPredictJob.status));
    const JOB =
      'query($id: ID!) { predictJob(id: $id) { status error prediction { results { predictions { label } } } } }';
    const done = await waitFor(async () => {
      const { predictJob } = await ok<{
        predictJob: { status: string; prediction: { results: { predictions: { label: string }[] }[] } };
      }>(stack.url, JOB, { id: submitPredictJob.id }, owner.accessToken);
      return predictJob.status === 'DONE' ? predictJob : undefined;
    });
    assert.equal(done.prediction.results[0]?.predictions[0]?.label, '4');
    const other = await signup(stack.url, 'other-models@example.com', 'other-co');
    const foreign = await ok<{ predictJob: unknown }>(
      stack.url,
      JOB,
      { id: submitPredictJob.id },
      other.accessToken,
    );
    assert.equal(foreign.predictJob, null, "another tenant's job is not found");
  });

  test('undeploy stops predictions; delete an undeployed model', async () => {
    await ok(
      stack.url,
      'mutation($id: ID!) { undeployModel(id: $id) { status } }',
      { id: modelId },
      owner.accessToken,
    );
    const res = await gql(
      stack.url,
      PREDICT,
      { id: modelId, input: { tensor: new Array(784).fill(0) } },
      owner.accessToken,
    );
    assert.equal(res.errors?.[0]?.extensions?.code, 'NOT_ALLOWED');
    await ok(stack.url, 'mutation($id: ID!) { deleteModel(id: $id) }', { id: modelId }, owner.accessToken);
    const { models } = await ok<{ models: unknown[] }>(stack.url, '{ models { id } }', {}, owner.accessToken);
    assert.deepEqual(models, []);
  });
});

describe('model uploads beyond the 1 MiB request limit', () => {
  test('a 3 MiB model uploads and predicts; one above TELLY_MAX_MODEL_BYTES is a 413 naming it', async () => {
    const big = withPadding(referenceModel('digits'), 3 * 1024 * 1024);
    assert.ok(big.byteLength > 3 * 1024 * 1024);
    const res = await upload(big, { name: 'digits-large', deploy: true });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const m = res.data?.uploadModel as unknown as { id: string; versions: { bytes: number }[] };
    assert.equal(m.versions[0]?.bytes, big.byteLength);
    const { predict } = await ok<{ predict: { results: { predictions: { label: string }[] }[] } }>(
      stack.url,
      PREDICT,
      { id: m.id, input: { image: Buffer.from(await renderDigit(4, 1, 'jpeg')).toString('base64') } },
      owner.accessToken,
    );
    assert.equal(predict.results[0]?.predictions[0]?.label, '4');

    const tooBig = await postUpload(withPadding(referenceModel('digits'), MAX_MODEL_BYTES), {
      name: 'digits-too-large',
    });
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.headers.get('content-type'), 'application/problem+json');
    const body = (await tooBig.json()) as { detail: string };
    assert.match(body.detail, new RegExp(`model uploads are limited to ${MAX_MODEL_BYTES} bytes`));

    // any other request keeps the 1 MiB limit, a multipart one to another route too
    const query = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.accessToken}` },
      body: JSON.stringify({ query: '{ models { id } }', variables: { pad: 'x'.repeat(1024 * 1024) } }),
    });
    assert.equal(query.status, 413);
    assert.match(
      ((await query.json()) as { detail: string }).detail,
      /requests are limited to 1048576 bytes/,
    );
    const form = new FormData();
    form.set('0', new Blob([new Uint8Array(big)]), 'model.onnx');
    const elsewhere = await fetch(`${stack.url}/v1/models/digits-large:predict`, {
      method: 'POST',
      body: form,
    });
    assert.equal(elsewhere.status, 413);
  });
});

describe('replaying a binding', () => {
  const REPLAY = `mutation($b: ID!, $from: DateTime!, $to: DateTime!) {
    replayBinding(bindingId: $b, from: $from, to: $to) { id status bindingId }
  }`;
  const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

  test('validated before it is queued; it fails plainly when no inference component runs', async () => {
    const token = owner.accessToken;
    const { createChannel } = await ok<{ createChannel: { id: string } }>(
      stack.url,
      'mutation { createChannel(input: { name: "replayed" }) { id } }',
      {},
      token,
    );
    const res = await upload(referenceModel('digits'), { name: 'digits-replayed' });
    const modelId = res.data?.uploadModel.id ?? '';
    const { bindModel } = await ok<{ bindModel: { bindings: { id: string }[] } }>(
      stack.url,
      'mutation($i: BindModelInput!) { bindModel(input: $i) { bindings { id } } }',
      { i: { modelId, channelId: createChannel.id, measurements: ['image'] } },
      token,
    );
    const bindingId = bindModel.bindings[0]?.id ?? '';
    const now = new Date().toISOString();
    const code = async (vars: Record<string, unknown>) =>
      (await gql(stack.url, REPLAY, vars, token)).errors?.[0];
    assert.equal((await code({ b: bindingId, from: hourAgo(), to: now }))?.extensions?.code, 'NOT_ALLOWED');
    await ok(stack.url, 'mutation($id: ID!) { deployModel(id: $id) { status } }', { id: modelId }, token);
    const unknown = await code({ b: '019a0000-0000-7000-8000-000000000000', from: hourAgo(), to: now });
    assert.equal(unknown?.extensions?.code, 'NOT_FOUND');
    const backwards = await code({ b: bindingId, from: now, to: hourAgo() });
    assert.equal(backwards?.extensions?.code, 'VALIDATION_FAILED');
    assert.match(backwards?.message ?? '', /^to: must be after from/);
    const long = await code({ b: bindingId, from: '2026-01-01T00:00:00Z', to: '2026-02-02T00:00:00Z' });
    assert.match(long?.message ?? '', /^to: the range is at most 31 days/);

    const { replayBinding } = await ok<{ replayBinding: { id: string; bindingId: string } }>(
      stack.url,
      REPLAY,
      { b: bindingId, from: hourAgo(), to: now },
      token,
    );
    assert.equal(replayBinding.bindingId, bindingId);
    const failed = await waitFor(async () => {
      const { replayJob } = await ok<{ replayJob: { status: string; error: string | null } }>(
        stack.url,
        'query($id: ID!) { replayJob(id: $id) { status error } }',
        { id: replayBinding.id },
        token,
      );
      return replayJob.status === 'FAILED' ? replayJob : undefined;
    });
    assert.equal(failed.error, 'no inference component is running to replay the binding');
  });
});

describe("training on the platform's own data", () => {
  test('a baseline trained on a week of simulated history flags injected anomalies', async () => {
    const token = owner.accessToken;
    const { createChannel } = await ok<{ createChannel: { id: string } }>(
      stack.url,
      'mutation { createChannel(input: { name: "soil" }) { id } }',
      {},
      token,
    );
    const { createThing } = await ok<{ createThing: { thing: { id: string } } }>(
      stack.url,
      'mutation { createThing(input: { name: "soil-1" }) { thing { id } } }',
      {},
      token,
    );
    const at = { tenantId: owner.user.tenant.id, channelId: createChannel.id, thingId: createThing.thing.id };
    // a week, every 10 minutes: a daily cycle (warmest at 15:00 UTC) and a little seeded noise
    const hour = 3_600_000;
    const end = Math.floor(Date.now() / hour) * hour;
    const start = end - 7 * 24 * hour;
    const cycle = (h: number) => 18 + 6 * Math.sin(((h - 9) / 24) * 2 * Math.PI);
    let seed = 7;
    const noise = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31 - 0.5) * 0.8;
    };
    let records: { n: string; v: number; t: number }[] = [];
    for (let t = start; t < end; t += hour / 6) {
      records.push({ n: 'temperature', v: cycle(new Date(t).getUTCHours()) + noise(), t: t / 1000 });
      if (records.length === 144) {
        await publishReading(stack.nc, at, records);
        records = [];
      }
    }
    await waitFor(
      async () => {
        const { telemetry } = await ok<{ telemetry: unknown[] }>(
          stack.url,
          'query($t: ID!, $from: DateTime!) { telemetry(thingId: $t, name: "temperature", from: $from, limit: 2000) { time } }',
          { t: at.thingId, from: new Date(start).toISOString() },
          token,
        );
        return telemetry.length === 7 * 24 * 6;
      },
      { what: 'a week of history stored' },
    );
    const { trainModel } = await ok<{ trainModel: { id: string; kind: string } }>(
      stack.url,
      `mutation($i: TrainModelInput!) { trainModel(input: $i) { id kind status } }`,
      {
        i: {
          name: 'soil-baseline',
          thingId: at.thingId,
          measurement: 'temperature',
          from: new Date(start).toISOString(),
          to: new Date(end).toISOString(),
          deploy: true,
        },
      },
      token,
    );
    assert.equal(trainModel.kind, 'train');
    const job = await waitFor(async () => {
      const { predictJob } = await ok<{
        predictJob: {
          status: string;
          progress: number;
          error: string | null;
          model: {
            id: string;
            deployedVersion: number;
            versions: { source: string; metrics: { samples: number } }[];
          };
        };
      }>(
        stack.url,
        'query($id: ID!) { predictJob(id: $id) { status progress error model { id deployedVersion versions { source metrics } } } }',
        { id: trainModel.id },
        token,
      );
      if (predictJob.status === 'FAILED') throw new Error(predictJob.error ?? 'failed');
      return predictJob.status === 'DONE' ? predictJob : undefined;
    });
    assert.equal(job.progress, 1);
    assert.equal(job.model.deployedVersion, 1);
    assert.equal(job.model.versions[0]?.source, 'training');
    assert.equal(job.model.versions[0]?.metrics.samples, 7 * 24 * 6);
    const anomalies = [];
    for (const [h, v] of [
      [15, cycle(15)],
      [3, cycle(3) + 0.2],
      [15, cycle(15) - 9], // a cold spike in the afternoon
      [3, cycle(15)], // the afternoon's warmth at 3 a.m.
    ] as const) {
      const data = await ok<{ predict: { results: { anomaly: boolean; score: number }[] } }>(
        stack.url,
        'mutation($id: ID!, $input: PredictInput!) { predict(modelId: $id, input: $input) { results { anomaly score } } }',
        { id: job.model.id, input: { values: { '@hour': h, temperature: v } } },
        token,
      );
      anomalies.push(data.predict.results[0]?.anomaly);
    }
    assert.deepEqual(anomalies, [false, false, true, true]);
  });
});
