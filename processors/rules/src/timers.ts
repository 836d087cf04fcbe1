import { type Logger, withTransaction } from '@telly/runtime';
import type pg from 'pg';
import { transitionEvent } from './alert-events.ts';
import { evaluateTimer } from './domain/evaluate.ts';
import { initialSeriesState } from './domain/types.ts';
import { enqueueEvents } from './outbox.ts';
import type { RuleCache } from './rule-cache.ts';
import { loadSeries, saveSeries, seriesKey } from './series-store.ts';

/** How often due timers are looked for. @default 250 */
export const DEFAULT_TIMER_INTERVAL_MS = 250;

interface DueTimer {
  rule_id: string;
  thing_id: string;
  name: string;
  due_at: Date;
}

/**
 * Fires the durable timers (`rule_timers`) that are due: a `for` duration that ran out, a
 * thing silent for a `no_data` rule's time. Each in its own transaction that locks the series
 * first (the order the evaluator locks in), checks the timer is still the one found, decides,
 * and writes the state and the alert event to the outbox together. Any number of instances
 * may run it; a timer is decided once.
 */
export function startTimers(
  pool: pg.Pool,
  cache: RuleCache,
  logger: Logger,
  afterCommit: () => void,
  intervalMs = DEFAULT_TIMER_INTERVAL_MS,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const fireDue = async () => {
    const { rows } = await pool.query<DueTimer>(
      'SELECT rule_id, thing_id, name, due_at FROM rule_timers WHERE due_at <= now() ORDER BY due_at LIMIT 500',
    );
    if (rows.length === 0) return;
    await cache.refresh();
    let fired = 0;
    for (const timer of rows) {
      fired += await withTransaction(pool, async (db) => {
        const key = { ruleId: timer.rule_id, thingId: timer.thing_id, name: timer.name };
        // the timer's row first: the evaluator locks it too before it reads the series
        const still = await db.query(
          'SELECT 1 FROM rule_timers WHERE rule_id = $1 AND thing_id = $2 AND name = $3 AND due_at = $4 FOR UPDATE',
          [timer.rule_id, timer.thing_id, timer.name, timer.due_at],
        );
        if (still.rowCount === 0) return 0; // moved or fired meanwhile
        const rule = cache.rule(timer.rule_id);
        const k = seriesKey(key);
        const stored = rule && (await loadSeries(db, new Map([[k, { ...key, rule }]]))).get(k);
        const state = stored?.state;
        const channelId = (state ?? initialSeriesState()).channelId ?? key.thingId;
        // a thing that no longer matches the rule's scope (its metadata changed) is not watched
        const watched = rule?.enabled && state && cache.watches(rule, key.thingId, channelId);
        const result = watched ? evaluateTimer(rule, state, key, timer.due_at.getTime()) : undefined;
        if (!rule || !stored || !result) {
          await db.query('DELETE FROM rule_timers WHERE rule_id = $1 AND thing_id = $2 AND name = $3', [
            timer.rule_id,
            timer.thing_id,
            timer.name,
          ]);
          return 0;
        }
        await saveSeries(db, [{ ...key, rule, state: result.state, timer: null, before: stored }]);
        await enqueueEvents(
          db,
          result.transitions.map((t) => transitionEvent(rule, { ...key, channelId }, t)),
        );
        return 1;
      });
    }
    if (fired > 0) afterCommit();
  };
  const timer = setInterval(() => {
    running ??= fireDue()
      .catch((err: unknown) => logger.warn({ err }, 'firing rule timers failed; retrying'))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
