// Models on streams at 1,000 msg/s: the soil anomaly model bound to a channel of a running
// Telly, readings appended to MESSAGES at a steady 1,000 msg/s (straight into JetStream as the
// operator: what is measured is the inference component, not a bridge); the lag of each reading
// is from its append to its result message arriving. The budget's bound (p99 ≤ 1 s) is the
// reference, as published; every reading must be answered.

import { jetstream } from '@nats-io/jetstream';
import { connectNats, Publisher } from '@telly/runtime';
import { messageSubject } from '@telly/schemas';
import { LatencyHistogram } from '../lib/histogram.ts';
import { uploadReferenceModel } from '../lib/models.ts';
import { round } from '../lib/stats.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const RATE = 1_000;
const TARGET_P99_MS = 1_000;
const SIZES: Record<Size, { ms: number }> = {
  smoke: { ms: 2_000 },
  short: { ms: 15_000 },
  full: { ms: 60_000 },
};

async function runScenario(ctx: ScenarioContext) {
  const ms = ctx.durationMs ?? SIZES[ctx.size].ms;
  ctx.log('starting Telly');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  const account = await provisionDevices(telly, 1, ctx.signal);
  const thingId = account.devices[0]!.thingId;
  const api = telly.platform.apiUrl;
  const modelId = await uploadReferenceModel(api, account.token, 'soilAnomaly', 'soil');
  await telly.platform.gql(
    'mutation($i: BindModelInput!) { bindModel(input: $i) { id } }',
    { i: { modelId, channelId: account.channelId, measurements: ['temperature', 'humidity', 'moisture'] } },
    account.token,
  );
  const nc = await connectNats(telly.nats, 'telly-bench-stream');
  try {
    const at = { tenant: account.tenantId, channel: account.channelId, thing: thingId };
    const sentAt = new Map<number, number>();
    const early = new Map<number, number>();
    const lag = new LatencyHistogram();
    let answered = 0;
    // results arrive on the thing's subtopic inference/soil; their message id names the input's seq
    const sub = nc.subscribe(messageSubject({ ...at, subtopic: ['inference', 'soil'] }));
    (async () => {
      for await (const m of sub) {
        const seq = Number(m.headers?.get('Telly-Message-Id')?.split('-').at(-1));
        const sent = sentAt.get(seq);
        if (sent === undefined) {
          early.set(seq, performance.now()); // answered before its ack was read here
          continue;
        }
        sentAt.delete(seq);
        lag.record(performance.now() - sent);
        answered++;
      }
    })().catch(() => {});
    const publisher = new Publisher(jetstream(nc));
    const subject = messageSubject({ ...at, subtopic: ['soil'] });
    const reading = (i: number) =>
      JSON.stringify([
        { n: 'temperature', v: 21 + (i % 7) * 0.3, t: Date.now() / 1000 },
        { n: 'humidity', v: 55 - (i % 5), t: Date.now() / 1000 },
        { n: 'moisture', v: 42 + (i % 3), t: Date.now() / 1000 },
      ]);
    // a binding applies from when the inference component has seen it: probe until one is answered
    const headers = {
      'Content-Type': 'application/senml+json',
      'Telly-Protocol': 'http',
      'Telly-Received': '0',
    };
    const probe = nc.subscribe(messageSubject({ ...at, subtopic: ['inference', 'soil'] }), { max: 1 });
    const bound = (async () => {
      for await (const _ of probe) return;
    })();
    let probing = true;
    void bound.then(() => {
      probing = false;
    });
    while (probing) {
      ctx.signal.throwIfAborted();
      await publisher.publish(subject, reading(0), {
        headers: { ...headers, 'Telly-Received': String(Date.now()) },
      });
      await Promise.race([bound, new Promise((r) => setTimeout(r, 200))]);
    }
    ctx.log(`offering ${RATE} msg/s for ${ms} ms`);
    const started = performance.now();
    let sent = 0;
    const pending: Promise<unknown>[] = [];
    while (performance.now() - started < ms) {
      ctx.signal.throwIfAborted();
      const due = Math.floor(((performance.now() - started) / 1000) * RATE);
      for (; sent < due; sent++) {
        const t0 = performance.now();
        pending.push(
          publisher
            .publish(subject, reading(sent), {
              headers: {
                'Content-Type': 'application/senml+json',
                'Telly-Protocol': 'http',
                'Telly-Received': String(Date.now()),
              },
            })
            .then((ack) => {
              const at = early.get(ack.seq);
              if (at === undefined) return sentAt.set(ack.seq, t0);
              early.delete(ack.seq);
              lag.record(at - t0);
              answered++;
            }),
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(pending);
    const offeredPerSecond = sent / ((performance.now() - started) / 1000);
    const deadline = Date.now() + 60_000;
    while (answered < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    sub.unsubscribe();
    const summary = lag.summary();
    const met = summary.p99 <= TARGET_P99_MS && answered === sent;
    return {
      telly: { label: 'result lag p99', value: summary.p99, unit: 'ms' },
      reference: {
        label: 'the budget’s bound',
        value: TARGET_P99_MS,
        unit: 'ms',
        kind: 'published' as const,
      },
      ratio: round(summary.p99 / TARGET_P99_MS),
      met,
      verdict: `p99 ${summary.p99} ms ${summary.p99 <= TARGET_P99_MS ? '≤' : '>'} ${TARGET_P99_MS} ms, ${answered}/${sent} answered`,
      details: {
        settings: { offeredRate: RATE, ms, model: 'soil-anomaly.onnx (IsolationForest)' },
        offeredPerSecond: round(offeredPerSecond),
        sent,
        answered,
        lost: sent - answered,
        lagMs: summary,
      },
      versions: telly.versions,
    };
  } finally {
    await nc.close();
  }
}

export const streamInference: Scenario = {
  name: 'stream-inference',
  title: 'models on streams at 1,000 msg/s (soil anomaly model)',
  target: `p99 lag ≤ ${TARGET_P99_MS} ms, every reading answered`,
  reference: 'the budget’s bound (published)',
  run: runScenario,
};
