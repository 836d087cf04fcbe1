// Smoke test of the benchmark suite: every scenario runs at its `smoke` size (seconds, a few
// devices) against real servers; asserts that it ran, that nothing acknowledged was lost and
// that the counters add up — not how fast anything is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenarios } from './run.ts';
import { findScenario } from './scenarios/index.ts';
import type { ScenarioResult } from './types.ts';

async function smoke(name: string): Promise<ScenarioResult> {
  const scenario = findScenario(name);
  assert.ok(scenario, name);
  const [report] = await runScenarios([scenario], {
    size: 'smoke',
    runs: undefined,
    durationMs: undefined,
    signal: new AbortController().signal,
    profileRoot: undefined,
    natsSyncInterval: undefined,
    log: () => {},
  });
  assert.equal(report?.status, 'ok', report?.error);
  const result = report.result!;
  assert.ok(result.telly.value > 0 && result.reference.value > 0, JSON.stringify(result));
  assert.ok(Math.abs(result.ratio - result.telly.value / result.reference.value) < 0.01 * result.ratio);
  return result;
}

interface IngestSide {
  durablePerSecond: number[];
  ackedPerSecond: number[];
  errors: number;
  missing: number;
}

test('mqtt-ingest: both sides stored every acknowledged message', async () => {
  const { details } = await smoke('mqtt-ingest');
  for (const side of [details.telly, details.reference, details.referenceAlways] as IngestSide[]) {
    assert.equal(side.errors, 0);
    assert.equal(side.missing, 0);
    assert.equal(side.durablePerSecond.length, 1);
    assert.ok(side.durablePerSecond[0]! > 0);
  }
});

test('http-ingest: every 202 Telly answered is in MESSAGES', async () => {
  const { details } = await smoke('http-ingest');
  const d = details as { tellyAccepted: number; tellyStored: number; tellyMissing: number };
  assert.ok(d.tellyAccepted > 0);
  assert.equal(d.tellyMissing, 0);
  assert.ok(d.tellyStored >= d.tellyAccepted);
});

test('coap-ingest: every 2.04 and 202 Telly answered is in MESSAGES, no CoAP request given up', async () => {
  const { details } = await smoke('coap-ingest');
  const d = details as { accepted: number; stored: number; missing: number; telly: { errors: number } };
  assert.ok(d.accepted > 0);
  assert.equal(d.missing, 0);
  assert.equal(d.telly.errors, 0, 'CoAP requests unanswered after every retransmission');
});

test('fleet: acknowledged = stored, per thing, and the counters add up', async () => {
  const { details } = await smoke('fleet');
  const d = details as {
    counters: {
      sent: number;
      acked: number;
      errors: number;
      inflight: number;
      connected: number;
      devices: number;
    };
    ackedPoints: number;
    storedPoints: number;
    lostPoints: number;
    extraPoints: number;
    publishToVisibleMs: { count: number; unresolved: number };
  };
  assert.equal(d.counters.connected, d.counters.devices);
  assert.equal(d.counters.sent, d.counters.acked + d.counters.errors + d.counters.inflight);
  assert.equal(d.counters.errors, 0);
  assert.equal(d.lostPoints, 0);
  assert.equal(d.extraPoints, 0);
  assert.equal(d.storedPoints, d.ackedPoints);
  assert.ok(d.publishToVisibleMs.count > 0);
  assert.equal(d.publishToVisibleMs.unresolved, 0);
});

test('query: a year of hourly buckets, the rollup agreeing with the raw rows', async () => {
  const result = await smoke('query');
  const d = result.details as { settings: { buckets: number; tableRows: number }; rollupMatchesRaw: boolean };
  assert.equal(d.settings.buckets, 365 * 24);
  // smoke: one thing, a reading an hour per series
  assert.equal(d.settings.tableRows, 365 * 24 * 3);
  assert.equal(d.rollupMatchesRaw, true);
  assert.equal(result.telly.unit, 'ms');
});

test('latency: every acknowledged message reached the subscriber once', async () => {
  const result = await smoke('latency');
  const { phases } = result.details as {
    phases: {
      sent: number;
      acked: number;
      delivered: number;
      lost: number;
      duplicates: number;
      errors: number;
    }[];
  };
  assert.equal(phases.length, 2, 'a phase at each rate');
  for (const d of phases) {
    assert.equal(d.errors, 0);
    assert.equal(d.acked, d.sent);
    assert.equal(d.lost, 0);
    assert.equal(d.duplicates, 0);
    assert.equal(d.delivered, d.acked, 'each acknowledged message delivered once');
  }
  assert.equal(result.telly.unit, 'ms');
});

test('rebuild: the replay rebuilt every row, and COPY loaded the same rows', async () => {
  const result = await smoke('rebuild');
  const d = result.details as {
    settings: { messages: number; recordsPerMessage: number; rows: number };
    lastReplay: { messages: number; points: number };
  };
  assert.equal(d.settings.rows, d.settings.messages * d.settings.recordsPerMessage);
  assert.equal(d.lastReplay.messages, d.settings.messages);
  assert.equal(d.lastReplay.points, d.settings.rows);
});

test('predict: both models answered through :predict what session.run answers, both measured', async () => {
  const result = await smoke('predict');
  const d = result.details as {
    settings: { clients: number; instancesPerRequest: number };
    cases: Record<string, { tellyPerSecond: number; referencePerSecond: number; ratio: number }>;
  };
  assert.deepEqual(Object.keys(d.cases).sort(), ['deep', 'digits']);
  for (const [name, c] of Object.entries(d.cases)) {
    assert.ok(c.tellyPerSecond > 0 && c.referencePerSecond > 0, name);
    assert.ok(Math.abs(c.ratio - c.tellyPerSecond / c.referencePerSecond) < 0.01 * c.ratio, name);
  }
  assert.equal(result.telly.value, d.cases.deep?.tellyPerSecond); // the headline is the compute-bound model
  assert.match(result.verdict, /digits/);
});

test('rules: the three phases offered the load, the rules were created and deleted, alerts were timed', async () => {
  const { details } = await smoke('rules');
  const d = details as {
    settings: { devices: number; rulesPerDevice: number; rules: number };
    offeredPerSecond: { before: number; with: number; after: number };
    alertLatencyMs: { count: number; p50: number };
  };
  assert.equal(d.settings.rules, d.settings.devices * d.settings.rulesPerDevice + 1, 'and the probe rule');
  for (const phase of ['before', 'with', 'after'] as const) {
    assert.ok(d.offeredPerSecond[phase] > 0, `${phase}: ${JSON.stringify(d.offeredPerSecond)}`);
  }
  assert.ok(d.alertLatencyMs.count > 0, 'the probe rule raised in the measured window');
  assert.ok(d.alertLatencyMs.p50 > 0);
});
