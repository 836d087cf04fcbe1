import {
  defineProcessor,
  PgCheckpoint,
  type ProcessorDefinition,
  type ProcessorMessage,
} from '@telly/runtime';
import { messageFilters, pointsOf, STREAMS, type TellyEvent } from '@telly/schemas';
import type pg from 'pg';
import { transitionEvent } from './alert-events.ts';
import { evaluateReading } from './domain/evaluate.ts';
import { initialSeriesState, type Reading, type Rule, type SeriesState } from './domain/types.ts';
import { enqueueEvents } from './outbox.ts';
import type { RuleCache } from './rule-cache.ts';
import {
  loadSeries,
  SeriesCache,
  type SeriesChanges,
  type SeriesKey,
  type SeriesWrite,
  saveSeries,
  seriesKey,
} from './series-store.ts';

export const RULES_MESSAGES = 'rules-messages';

export interface Candidate {
  rule: Rule;
  reading: Reading;
}

/**
 * The readings of a batch that some enabled rule watches, in stream order; the candidates of
 * one reading share its object, one after the other.
 */
export function candidatesOf(messages: readonly ProcessorMessage[], cache: RuleCache): Candidate[] {
  const out: Candidate[] = [];
  for (const message of messages) {
    let points: ReturnType<typeof pointsOf>;
    try {
      points = pointsOf(message);
    } catch {
      continue; // not telemetry the projections store either
    }
    for (const p of points) {
      const value = p.value ?? p.stringValue ?? p.boolValue;
      if (value === undefined) continue;
      const rules = cache.matching(p.tenantId, p.thingId, p.channelId, p.name);
      if (rules.length === 0) continue;
      const reading = { thingId: p.thingId, channelId: p.channelId, name: p.name, value, timeMs: p.timeMs };
      for (const rule of rules) out.push({ rule, reading });
    }
  }
  return out;
}

/** One evaluator at a time decides, whichever instance holds the consumer during a failover. */
const EVALUATOR_LOCK = 'telly_rules_evaluator';

/** Where the evaluator keeps what it last committed, and the rules it decides with. */
export interface EvaluatorMemory {
  series: SeriesCache;
  /** Brings the rules to `version` (read under the evaluator's lock); answers the version held. */
  rules: { at(db: pg.PoolClient, version: string): Promise<string> };
}

/**
 * Evaluates a batch inside `db`'s transaction: takes the evaluator's lock, brings the rules to
 * what was committed, finds the candidates (`candidatesOf`), loads their series' states
 * (locking their timers; from `memory` what it holds), folds the readings in order, writes back
 * what changed and the alert events to the outbox. Returns the events, what was read and
 * written (for `memory`, once committed) and the checkpoint as it was.
 */
export async function evaluateInTransaction(
  db: pg.PoolClient,
  candidatesOf: () => Candidate[],
  memory: EvaluatorMemory,
): Promise<{ events: TellyEvent[]; changes?: SeriesChanges; lastSeq: number }> {
  const { rows } = await db.query<{ last_seq: string | null; rules_version: string | null }>({
    name: 'rules-evaluator-lock',
    text: 'SELECT last_seq, rules_version FROM telly_rules_evaluator_lock($1, $2)',
    values: [EVALUATOR_LOCK, RULES_MESSAGES],
  });
  const lastSeq = Number(rows[0]?.last_seq ?? 0);
  const rulesVersion = await memory.rules.at(db, rows[0]?.rules_version ?? '0');
  memory.series.validate(lastSeq, rulesVersion);
  const candidates = candidatesOf();
  if (candidates.length === 0) return { events: [], lastSeq };
  const keys = new Map<string, SeriesKey & { rule: Rule }>();
  const keyOf: string[] = [];
  for (const { rule, reading } of candidates) {
    const k = { ruleId: rule.id, thingId: reading.thingId, name: reading.name, rule };
    const key = seriesKey(k);
    keyOf.push(key);
    keys.set(key, k);
  }
  const loaded = await loadSeries(db, keys, memory.series);
  const states = new Map<string, SeriesState>();
  const writes = new Map<string, SeriesWrite>();
  const evaluated: (Reading & { tenantId: string })[] = [];
  let lastEvaluated: Reading | undefined;
  const events: TellyEvent[] = [];
  candidates.forEach(({ rule, reading }, i) => {
    const key = keyOf[i]!;
    const state = states.get(key) ?? loaded.get(key)?.state ?? initialSeriesState();
    const result = evaluateReading(rule, state, reading);
    if (!result) return; // late: older than what the series has seen
    states.set(key, result.state);
    if (reading !== lastEvaluated) evaluated.push({ ...reading, tenantId: rule.tenantId });
    lastEvaluated = reading;
    writes.set(key, {
      ruleId: rule.id,
      thingId: reading.thingId,
      name: reading.name,
      rule,
      state: result.state,
      timer: result.timer,
      before: loaded.get(key)!,
    });
    for (const t of result.transitions) events.push(transitionEvent(rule, reading, t));
  });
  const changes = await saveSeries(db, [...writes.values()], evaluated);
  await enqueueEvents(db, events);
  return { events, changes, lastSeq };
}

/**
 * One batch through the checkpoint: the fresh messages' candidates evaluated in its
 * transaction, and `memory` told what the commit left (or emptied when it failed). Returns the
 * alert events decided.
 */
export async function evaluateBatch(
  checkpoint: PgCheckpoint,
  memory: EvaluatorMemory,
  messages: ProcessorMessage[],
  candidates: (fresh: ProcessorMessage[]) => Candidate[],
): Promise<TellyEvent[]> {
  const { series } = memory;
  let outcome: Awaited<ReturnType<typeof evaluateInTransaction>> | undefined;
  try {
    await checkpoint.apply(messages, async (client, fresh) => {
      outcome = await evaluateInTransaction(client, () => candidates(fresh), memory);
    });
  } catch (err) {
    series.clear(); // what the failed transaction read or meant to write is not the truth
    throw err;
  }
  if (outcome) {
    // the checkpoint the commit left: PgCheckpoint's GREATEST over the whole batch
    const batchLast = Math.max(...messages.map((m) => m.seq));
    series.committed(Math.max(outcome.lastSeq, batchLast), outcome.changes);
  }
  return outcome?.events ?? [];
}

/**
 * The rules over MESSAGES. One instance at a time evaluates (`ordered`), the others stand
 * by; state, timers and the alert events it decided are committed with the checkpoint, so a
 * crash anywhere repeats nothing and loses nothing.
 */
export function evaluatorProcessor(
  pool: pg.Pool,
  cache: RuleCache,
  afterCommit: () => void,
): ProcessorDefinition & { checkpoint: PgCheckpoint } {
  const checkpoint = new PgCheckpoint(pool, RULES_MESSAGES);
  const series = new SeriesCache();
  const definition = defineProcessor({
    name: RULES_MESSAGES,
    stream: STREAMS.MESSAGES.name,
    filter: [...messageFilters()],
    ordered: true,
    // one transaction per batch whatever its size: bigger batches keep up with a fleet's rate,
    // and a batch waits 5 ms for more, so a steady trickle is not a transaction per reading
    batch: { maxMessages: 1_024, lingerMs: 5 },
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      const events = await evaluateBatch(checkpoint, { series, rules: cache }, messages, (fresh) =>
        candidatesOf(fresh, cache),
      );
      if (events.length > 0) afterCommit();
    },
  });
  return { ...definition, checkpoint };
}
