import type { NatsConnection } from '@nats-io/transport-node';
import type { ReplayResult } from './replay.ts';

/**
 * Replays of a binding over core NATS: the API (which holds the job) publishes a
 * {@link ReplayRequest} on this subject with the reply subject `telly.inference.replays.<job>`;
 * one inference instance (queue group `inference`) runs it, with the model it serves, and
 * answers there with {@link ReplayUpdate}s until it ends. Nothing here is durable: a replay
 * whose instance stops fails, and running it again publishes only what is missing.
 */
export const REPLAY_REQUEST_SUBJECT = 'telly.inference.replay';
/** Where one instance of the inference component takes each request. */
export const REPLAY_QUEUE = 'inference';
const REPLIES = 'telly.inference.replays';
/** `telly.inference.replays.<job>`: a replay's updates. */
export const replayReplySubject = (jobId: string) => `${REPLIES}.${jobId}`;
/** `telly.inference.replays.<job>.cancel`: stops a replay between batches. */
export const replayCancelSubject = (jobId: string) => `${REPLIES}.${jobId}.cancel`;
export const REPLAY_CANCEL_FILTER = `${REPLIES}.*.cancel`;

/** An instance answers at least this often while a replay runs. @default 5 s */
export const REPLAY_HEARTBEAT_MS = 5_000;
/** How long an instance waits for the requested version to serve. @default 15 s */
export const REPLAY_SERVING_WAIT_MS = 15_000;
/** The API fails a replay it heard nothing of for this long. @default 30 s */
export const DEFAULT_REPLAY_SILENCE_MS = 30_000;

export interface ReplayRequest {
  jobId: string;
  tenantId: string;
  modelId: string;
  bindingId: string;
  /** The version the API saw deployed: the instance waits for it to serve (its catalog may lag). */
  version: number;
  /** ISO 8601. */
  from: string;
  to: string;
}

export type ReplayUpdate =
  | { status: 'running'; progress: number }
  | { status: 'done'; result: ReplayResult }
  | { status: 'failed'; error: string };

export interface ReplayRequestOptions {
  signal: AbortSignal;
  onProgress: (fraction: number) => void;
  /** @default DEFAULT_REPLAY_SILENCE_MS */
  silenceMs?: number | undefined;
}

/**
 * Asks the inference component to replay a binding and follows it to its end: resolves with
 * its result, rejects with its error, when nothing answers (no instance runs, or it stopped), or
 * when `signal` aborts (the replay is then cancelled).
 */
export function requestReplay(
  nc: NatsConnection,
  request: ReplayRequest,
  options: ReplayRequestOptions,
): Promise<ReplayResult> {
  const { signal, onProgress } = options;
  const silenceMs = options.silenceMs ?? DEFAULT_REPLAY_SILENCE_MS;
  const reply = replayReplySubject(request.jobId);
  const sub = nc.subscribe(reply);
  return new Promise<ReplayResult>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const end = (settle: () => void) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sub.unsubscribe();
      settle();
    };
    const quiet = () =>
      end(() => reject(new Error(`the inference component did not answer for ${silenceMs} ms`)));
    const heard = () => {
      clearTimeout(timer);
      timer = setTimeout(quiet, silenceMs);
    };
    const onAbort = () => {
      nc.publish(replayCancelSubject(request.jobId));
      end(() => reject(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    heard();
    (async () => {
      for await (const m of sub) {
        heard();
        if (m.headers?.code === 503) {
          return end(() => reject(new Error('no inference component is running to replay the binding')));
        }
        const update = m.json<ReplayUpdate>();
        if (update.status === 'running') onProgress(update.progress);
        else if (update.status === 'done') return end(() => resolve(update.result));
        else return end(() => reject(new Error(update.error)));
      }
    })().catch((err: unknown) => end(() => reject(err)));
    nc.publish(REPLAY_REQUEST_SUBJECT, JSON.stringify(request), { reply });
  });
}
