// 1,000 active rules over a fleet's load: readings appended to MESSAGES at a steady rate
// (straight into JetStream as the operator, so what is measured is Telly behind the bridges),
// with no rules, then with 1,000 thing-scoped rules over the same measurement, then with none
// again (the rules deleted): the reference is the mean of the two phases without, so drift over
// the run (tables growing, the machine's load) does not count for or against the rules. Every
// phase carries the same readings, a probe thing's among them. Measured: the extra CPU of
// Telly's process tree, and the latency from a reading's append (its ack) to its `alert.raised`
// in EVENTS, of a probe rule that raises on every other reading of the probe thing.

import { jetstream } from '@nats-io/jetstream';
import { connectNats, Publisher } from '@telly/runtime';
import { createEvent, decodeEvent, eventSubject, messageSubject } from '@telly/schemas';
import { v7 } from 'uuid';
import { LatencyHistogram } from '../lib/histogram.ts';
import { PgActivityMonitor } from '../lib/pg-activity.ts';
import { TreeMonitor } from '../lib/process-tree.ts';
import { round } from '../lib/stats.ts';
import { provisionDevices, startTelly } from '../lib/telly-stack.ts';
import type { Scenario, ScenarioContext, Size } from '../types.ts';

const TARGET_EXTRA_CPU = 0.15;
const TARGET_P99_MS = 50;
const PROBE_EVERY_MS = 100;
/**
 * `warmupMs`: the load offered before each phase is measured (JIT, caches); `settleMs`: more of
 * it before the first phase only, while a Telly that just started settles (its fresh tables'
 * first vacuum and analyze, the projections of the provisioning).
 */
const SIZES: Record<
  Size,
  { devices: number; rulesPerDevice: number; rate: number; warmupMs: number; settleMs: number; ms: number }
> = {
  smoke: { devices: 5, rulesPerDevice: 4, rate: 200, warmupMs: 500, settleMs: 0, ms: 3_000 },
  short: { devices: 100, rulesPerDevice: 10, rate: 1_000, warmupMs: 5_000, settleMs: 10_000, ms: 20_000 },
  full: { devices: 100, rulesPerDevice: 10, rate: 1_000, warmupMs: 10_000, settleMs: 30_000, ms: 60_000 },
};
const HEADERS = { 'Content-Type': 'application/senml+json', 'Telly-Protocol': 'http' };

async function runScenario(ctx: ScenarioContext) {
  const size = SIZES[ctx.size];
  const ms = ctx.durationMs ?? size.ms;
  ctx.log('starting Telly');
  await using telly = await startTelly({
    profileDir: ctx.profileDir,
    natsSyncInterval: ctx.natsSyncInterval,
    signal: ctx.signal,
  });
  const account = await provisionDevices(telly, size.devices + 1, ctx.signal);
  const [probe, ...fleet] = account.devices;
  const nc = await connectNats(telly.nats, 'telly-bench-rules');
  const postgres = new PgActivityMonitor(telly.databaseUrl);
  try {
    const publisher = new Publisher(jetstream(nc));
    const at = (thing: string) => ({ tenant: account.tenantId, channel: account.channelId, thing });
    const subjects = fleet.map((d) => messageSubject(at(d.thingId)));
    const probeSubject = messageSubject(at(probe!.thingId));
    const sentAt = new Map<number, number>();
    const latency = new LatencyHistogram();
    const sub = nc.subscribe(
      eventSubject({ tenant: account.tenantId, type: 'alert', thing: probe!.thingId }),
    );
    (async () => {
      for await (const m of sub) {
        const event = decodeEvent(m.data);
        if (event.type !== 'alert.raised') continue;
        const sent = sentAt.get(Date.parse(event.time));
        if (sent !== undefined) latency.record(performance.now() - sent);
      }
    })().catch(() => {});

    /**
     * Offers the load for the warm-up and then `ms` measured, the probe's readings (60, 0, 60, …)
     * among it; the probes' latency is counted from those sent in the measured window.
     */
    const load = async (warmupMs = size.warmupMs) => {
      const monitor = new TreeMonitor(telly.roots, telly.names);
      const started = performance.now();
      let measuredFrom: { at: number; sent: number } | undefined;
      let sent = 0;
      let probes = 0;
      const pending: Promise<unknown>[] = [];
      while (performance.now() - started < warmupMs + ms) {
        ctx.signal.throwIfAborted();
        if (!measuredFrom && performance.now() - started >= warmupMs) {
          monitor.start();
          await postgres.start();
          measuredFrom = { at: performance.now(), sent };
        }
        const measured = measuredFrom !== undefined;
        const due = Math.floor(((performance.now() - started) / 1000) * size.rate);
        for (; sent < due; sent++) {
          const body = JSON.stringify([{ n: 'temperature', v: 20 + (sent % 10) / 10, t: Date.now() / 1000 }]);
          pending.push(
            publisher.publish(subjects[sent % subjects.length]!, body, {
              headers: { ...HEADERS, 'Telly-Received': String(Date.now()) },
            }),
          );
        }
        const probesDue = Math.floor((performance.now() - started) / PROBE_EVERY_MS);
        for (; probes < probesDue; probes++) {
          const t = Date.now();
          const body = JSON.stringify([{ n: 'temperature', v: probes % 2 === 0 ? 60 : 0, t: t / 1000 }]);
          pending.push(
            publisher
              .publish(probeSubject, body, { headers: { ...HEADERS, 'Telly-Received': String(t) } })
              .then(() => {
                if (measured) sentAt.set(t, performance.now());
              }),
          );
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(pending);
      const cpu = monitor.stop();
      const pgActivity = await postgres.stop();
      const from = measuredFrom ?? { at: started, sent: 0 };
      return {
        cpu,
        pgActivity,
        sent: sent - from.sent,
        offeredPerSecond: round((sent - from.sent) / ((performance.now() - from.at) / 1000)),
      };
    };

    const settle = size.settleMs + size.warmupMs;
    ctx.log(`reference: ${size.rate} msg/s for ${ms} ms after ${settle} ms, no rules`);
    const before = await load(settle);
    const rules = size.devices * size.rulesPerDevice;
    ctx.log(`creating ${rules} rules`);
    // appended to REGISTRY as the API's decider would (in parallel: what is measured is the
    // engine, not createRule's round trips), then waited for in the rules projection
    const ruleIds: string[] = [];
    const rule = (thingId: string, name: string, condition: Record<string, unknown>) => {
      const ruleId = v7();
      ruleIds.push(ruleId);
      return publisher.publishEvent(
        createEvent(
          'rule.created',
          {
            tenantId: account.tenantId,
            data: {
              ruleId,
              name,
              thingId,
              measurement: 'temperature',
              condition: condition as never,
              severity: 'warning',
              message: '{thing}: {name} is {value}',
              actions: [],
              enabled: true,
            },
          },
          { id: v7(), now: Date.now() },
        ),
      );
    };
    await Promise.all([
      ...fleet.flatMap((device, i) =>
        Array.from({ length: size.rulesPerDevice }, (_, k) =>
          // never true at this load's values: evaluated on every reading, never raising
          rule(device.thingId, `bench ${i}.${k}`, {
            op: 'gt',
            value: 100 + k,
            clearValue: 90,
            ...(k % 2 === 0 ? { for: '1m' } : {}),
          }),
        ),
      ),
      rule(probe!.thingId, 'probe', { op: 'gt', value: 50 }),
    ]);
    /** Until the rules projection holds `count` rules. */
    const rulesHeld = async (count: number) => {
      for (;;) {
        ctx.signal.throwIfAborted();
        const { rules: page } = await telly.platform.gql<{ rules: { totalCount: number } }>(
          '{ rules(first: 1) { totalCount } }',
          {},
          account.token,
        );
        if (page.totalCount === count) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await rulesHeld(rules + 1);
    ctx.log(`with ${rules} rules: ${size.rate} msg/s for ${ms} ms`);
    const withRules = await load();
    await new Promise((r) => setTimeout(r, 2_000)); // the last probes' alerts
    sub.unsubscribe();
    ctx.log('deleting the rules');
    await Promise.all(
      ruleIds.map((ruleId) =>
        publisher.publishEvent(
          createEvent(
            'rule.deleted',
            { tenantId: account.tenantId, data: { ruleId } },
            { id: v7(), now: Date.now() },
          ),
        ),
      ),
    );
    await rulesHeld(0);
    ctx.log(`reference again: ${size.rate} msg/s for ${ms} ms, no rules`);
    const after = await load();
    const withoutPercent = round((before.cpu.cpuPercent + after.cpu.cpuPercent) / 2);
    const extra = round(withRules.cpu.cpuPercent / withoutPercent - 1);
    const summary = latency.summary();
    const met = extra <= TARGET_EXTRA_CPU && summary.p99 <= TARGET_P99_MS;
    return {
      telly: { label: `CPU with ${rules} rules`, value: withRules.cpu.cpuPercent, unit: '% of a core' },
      reference: {
        label: 'CPU of the same load without rules (mean of before and after)',
        value: withoutPercent,
        unit: '% of a core',
        kind: 'measured' as const,
      },
      ratio: round(withRules.cpu.cpuPercent / withoutPercent),
      met,
      verdict: `extra CPU ${Math.round(extra * 100)} % ${extra <= TARGET_EXTRA_CPU ? '≤' : '>'} 15 %, reading → alert.raised p50 ${summary.p50} ms, p99 ${summary.p99} ms ${summary.p99 <= TARGET_P99_MS ? '≤' : '>'} ${TARGET_P99_MS} ms`,
      details: {
        settings: { ...size, ms, rules: rules + 1 },
        offeredPerSecond: {
          before: before.offeredPerSecond,
          with: withRules.offeredPerSecond,
          after: after.offeredPerSecond,
        },
        cpuBefore: before.cpu,
        cpuWith: withRules.cpu,
        cpuAfter: after.cpu,
        postgresBefore: before.pgActivity,
        postgresWith: withRules.pgActivity,
        postgresAfter: after.pgActivity,
        alertLatencyMs: summary,
      },
      versions: telly.versions,
    };
  } finally {
    await postgres.close();
    await nc.close();
  }
}

export const rules: Scenario = {
  name: 'rules',
  title: '1,000 active rules over a fleet’s load',
  target: `≤ ${TARGET_EXTRA_CPU * 100} % extra CPU; reading ack → alert.raised p99 ≤ ${TARGET_P99_MS} ms`,
  reference: 'the same load without rules, on the same Telly, before and after, in the same run',
  run: runScenario,
};
