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
import { initialSeriesState, type Reading, type Rule } from './domain/types.ts';
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

/** The readings of a batch that some enabled rule watches, in stream order. */
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
      for (const rule of cache.matching(p.tenantId, p.thingId, p.channelId, p.name)) {
        out.push({
          rule,
          reading: { thingId: p.thingId, channelId: p.channelId, name: p.name, value, timeMs: p.timeMs },
        });
      }
    }
  }
  return out;
}

/** One evaluator at a time decides, whichever instance holds the consumer during a failover. */
const EVALUATOR_LOCK = 'telly_rules_evaluator';

/** Where the evaluator keeps what it last committed, and which rules it decided with. */
export interface EvaluatorMemory {
  series: SeriesCache;
  rulesVersion: string;
}

/**
 * Evaluates candidates against their series' states inside `db`'s transaction: takes the
 * evaluator's lock, loads the states (locking their timers; from `memory` what it holds),
 * folds the readings in order, writes back what changed and the alert events to the outbox.
 * Returns the events, what was read and written (for `memory`, once committed) and the
 * checkpoint as it was.
 */
export async function evaluateInTransaction(
  db: pg.PoolClient,
  candidates: Candidate[],
  memory?: EvaluatorMemory,
): Promise<{ events: TellyEvent[]; changes?: SeriesChanges; lastSeq?: number }> {
  if (candidates.length === 0 && !memory?.series.size) return { events: [] };
  const { rows } = await db.query<{ last_seq: string | null }>({
    name: 'rules-evaluator-lock',
    text: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0)),
             (SELECT last_seq FROM telly_checkpoints WHERE processor = $2) AS last_seq`,
    values: [EVALUATOR_LOCK, RULES_MESSAGES],
  });
  const lastSeq = Number(rows[0]?.last_seq ?? 0);
  memory?.series.validate(lastSeq, memory.rulesVersion);
  if (candidates.length === 0) return { events: [], lastSeq };
  const keys = new Map<string, SeriesKey & { rule: Rule }>();
  for (const { rule, reading } of candidates) {
    const k = { ruleId: rule.id, thingId: reading.thingId, name: reading.name, rule };
    keys.set(seriesKey(k), k);
  }
  const loaded = await loadSeries(db, [...keys.values()], memory?.series);
  const states = new Map([...loaded].map(([key, s]) => [key, s.state]));
  const writes = new Map<string, SeriesWrite>();
  const evaluated: (Reading & { tenantId: string })[] = [];
  const events: TellyEvent[] = [];
  for (const { rule, reading } of candidates) {
    const key = seriesKey({ ruleId: rule.id, thingId: reading.thingId, name: reading.name });
    const result = evaluateReading(rule, states.get(key) ?? initialSeriesState(), reading);
    if (!result) continue; // late: older than what the series has seen
    states.set(key, result.state);
    evaluated.push({ ...reading, tenantId: rule.tenantId });
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
  }
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
      outcome = await evaluateInTransaction(client, candidates(fresh), memory);
    });
  } catch (err) {
    series.clear(); // what the failed transaction read or meant to write is not the truth
    throw err;
  }
  if (outcome?.lastSeq === undefined) {
    // applied without the evaluator's lock: what is held can no longer be vouched for
    if (outcome) series.clear();
  } else {
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
    // and a batch waits 10 ms for more, so a steady trickle is not a transaction per reading
    batch: { maxMessages: 1_024, lingerMs: 10 },
    onAckFloor: (seq) => checkpoint.prune(seq),
    async handle(messages) {
      await cache.refresh();
      const events = await evaluateBatch(
        checkpoint,
        { series, rulesVersion: cache.version },
        messages,
        (fresh) => candidatesOf(fresh, cache),
      );
      if (events.length > 0) afterCommit();
    },
  });
  return { ...definition, checkpoint };
}
