import type { JetStreamClient } from '@nats-io/jetstream';
import { LogReader, logBounds, type Publisher, seqAt } from '@telly/runtime';
import { INFERENCE_RESULT_PROTOCOL, messageFilters } from '@telly/schemas';
import type { ModelBinding } from '../catalog/model-state.ts';
import { type BoundItem, boundItem, deviceReading } from './bound-input.ts';
import { resultMessageIdPrefix, runAndPublish } from './result-writer.ts';
import { RESULT_SUBTOPIC } from './results.ts';
import type { Serving } from './serving.ts';

/** Log entries read (and run, in one `session.run`) per fetch. @default 256 */
export const DEFAULT_REPLAY_BATCH = 256;

/** What a replay did. */
export interface ReplayResult {
  /** The model version that ran (the one deployed when the replay started). */
  version: number;
  /** Entries of the binding's channel read in the range. */
  messages: number;
  /** Results published (a message and an `inference.completed` each). */
  completed: number;
  /** Inputs that failed (`inference.failed`). */
  failed: number;
  /** Inputs passed over because this version's result is already in the log. */
  skipped: number;
}

export interface ReplayOptions {
  from: Date;
  to: Date;
  signal?: AbortSignal | undefined;
  /** The fraction (0..1) of the range's log sequences read, after each batch. */
  onProgress?: ((fraction: number) => void) | undefined;
  /** @default DEFAULT_REPLAY_BATCH */
  batch?: number | undefined;
}

/**
 * Runs a binding's serving model version over its channel's messages logged from `from` to `to`
 * (log time) and publishes the results as live does, with the same ids (result-writer.ts). An
 * entry whose result of this version is in the log already (live, or an earlier replay) is
 * passed over, so a repeated or overlapping replay stores nothing twice; a result published
 * while it runs is caught by the log's duplicate window, since the ids are the same.
 */
export async function replayBinding(
  js: JetStreamClient,
  publisher: Publisher,
  s: Serving,
  binding: ModelBinding,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const { signal, onProgress } = options;
  const tenant = s.model.tenantId;
  const version = s.version.version;
  const out: ReplayResult = { version, messages: 0, completed: 0, failed: 0, skipped: 0 };
  const firstSeq = await seqAt(js, options.from);
  const lastSeq = (await seqAt(js, options.to)) - 1;
  if (lastSeq < firstSeq) {
    onProgress?.(1);
    return out;
  }
  const done = await answered(js, s, binding, firstSeq, signal);
  const things = new Set(binding.thingIds);
  const reader = new LogReader(js, firstSeq, {
    filterSubjects: messageFilters({ tenant, channel: binding.channelId }),
  });
  try {
    for (;;) {
      signal?.throwIfAborted();
      const entries = await reader.next(options.batch ?? DEFAULT_REPLAY_BATCH, lastSeq);
      if (entries.length === 0) break;
      const items: BoundItem[] = [];
      for (const entry of entries) {
        out.messages++;
        const reading = deviceReading(
          entry,
          INFERENCE_RESULT_PROTOCOL,
          (subject) => things.size === 0 || things.has(subject.thing),
        );
        if (!reading) continue;
        const item = boundItem(s, binding.measurements, entry, reading);
        if (!item) continue;
        if (done.has(entry.seq)) out.skipped++;
        else items.push(item);
      }
      if (items.length > 0) {
        const counts = await runAndPublish(publisher, s, items);
        out.completed += counts.completed;
        out.failed += counts.failed;
      }
      onProgress?.((reader.lastSeq - firstSeq + 1) / (lastSeq - firstSeq + 1));
    }
  } finally {
    await reader.close();
  }
  signal?.throwIfAborted();
  onProgress?.(1);
  return out;
}

/**
 * The source sequences this version already answered: its result messages on the channel from
 * `firstSeq` to the head of the log (a result is logged after its source), by `Nats-Msg-Id`.
 */
async function answered(
  js: JetStreamClient,
  s: Serving,
  binding: ModelBinding,
  firstSeq: number,
  signal: AbortSignal | undefined,
): Promise<Set<number>> {
  const prefix = resultMessageIdPrefix(s.model.id, s.version.version);
  const done = new Set<number>();
  const { lastSeq: headSeq } = await logBounds(js);
  const reader = new LogReader(js, firstSeq, {
    filterSubjects: messageFilters({
      tenant: s.model.tenantId,
      channel: binding.channelId,
      subtopic: [RESULT_SUBTOPIC, s.model.name],
    }),
  });
  try {
    for (;;) {
      signal?.throwIfAborted();
      const entries = await reader.next(10_000, headSeq);
      if (entries.length === 0) break;
      for (const entry of entries) {
        const id = entry.headers?.get('Nats-Msg-Id') ?? '';
        if (id.startsWith(prefix)) done.add(Number(id.slice(prefix.length)));
      }
    }
  } finally {
    await reader.close();
  }
  return done;
}
