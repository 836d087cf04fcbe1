import type { JetStreamClient } from '@nats-io/jetstream';
import { LogReader, seqAt } from '@telly/runtime';
import { messageFilters } from '@telly/schemas';
import { Backtest, type BacktestOptions, type BacktestResult } from './backtest.ts';
import type { Rule } from './domain/types.ts';

/**
 * Readings are stamped by their devices, and a late one is logged after its time: the log is
 * read this much before `from` and after `to` (readings are still evaluated in [from, to) only).
 */
export const BACKTEST_LOG_SKEW_MS = 60_000;

/** Log entries read (and evaluated) per fetch. @default 1000 */
export const DEFAULT_BACKTEST_BATCH = 1_000;

export interface BacktestLogOptions extends BacktestOptions {
  /** Stops the backtest (with the signal's reason) between batches. */
  signal?: AbortSignal;
  /** The fraction (0..1) of the range's log sequences read, after each batch. */
  onProgress?: (fraction: number) => void;
  /** @default DEFAULT_BACKTEST_BATCH */
  batch?: number;
}

/**
 * Backtests a rule over the tenant's MESSAGES as they were logged from `from` to `to` (by log
 * time, give or take {@link BACKTEST_LOG_SKEW_MS}): the range's first and last sequence are
 * found by time, then the entries of the rule's scope are streamed through an ordered consumer
 * and evaluated batch by batch, never all held at once. A backfill logged long after `to` is
 * not in the range. Reads only: no consumer is left, nothing is written, mailed or sent.
 */
export async function backtestLog(
  js: JetStreamClient,
  rule: Rule,
  options: BacktestLogOptions,
): Promise<BacktestResult> {
  const { from, to, signal, onProgress } = options;
  const backtest = new Backtest(rule, options);
  const firstSeq = await seqAt(js, new Date(from.getTime() - BACKTEST_LOG_SKEW_MS));
  const lastSeq = (await seqAt(js, new Date(to.getTime() + BACKTEST_LOG_SKEW_MS))) - 1;
  if (lastSeq >= firstSeq) {
    const reader = new LogReader(js, firstSeq, {
      filterSubjects: messageFilters({
        tenant: rule.tenantId,
        channel: rule.def.channelId,
        thing: rule.def.thingId,
      }),
    });
    try {
      for (;;) {
        signal?.throwIfAborted();
        const entries = await reader.next(options.batch ?? DEFAULT_BACKTEST_BATCH, lastSeq);
        if (entries.length === 0) break;
        for (const entry of entries) backtest.feed(entry);
        onProgress?.((reader.lastSeq - firstSeq + 1) / (lastSeq - firstSeq + 1));
      }
    } finally {
      await reader.close();
    }
  }
  signal?.throwIfAborted();
  onProgress?.(1);
  return backtest.finish();
}
