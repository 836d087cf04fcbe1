import type { JetStreamClient } from '@nats-io/jetstream';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger, Publisher } from '@telly/runtime';
import { replayBinding } from './replay.ts';
import {
  REPLAY_CANCEL_FILTER,
  REPLAY_HEARTBEAT_MS,
  REPLAY_QUEUE,
  REPLAY_REQUEST_SUBJECT,
  REPLAY_SERVING_WAIT_MS,
  type ReplayRequest,
  type ReplayUpdate,
} from './replay-protocol.ts';
import type { ServingModels } from './serving.ts';

/** Replays one instance runs at once; one more is refused (the API's queue holds the rest). @default 2 */
export const DEFAULT_MAX_REPLAYS = 2;

/**
 * The inference component's side of replay-protocol.ts: runs a binding's replay with the version
 * it serves, publishing the results as live does (it may publish `msg.>` and
 * `evt.*.inference.*`; the API may not), and answers its progress on the request's reply subject.
 */
export class ReplayService {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #serving: ServingModels;
  readonly #publisher: Publisher;
  readonly #logger: Logger;
  readonly #max: number;
  readonly #running = new Map<string, AbortController>();
  #subs: Subscription[] = [];

  constructor(deps: {
    nc: NatsConnection;
    js: JetStreamClient;
    serving: ServingModels;
    publisher: Publisher;
    logger: Logger;
    /** @default DEFAULT_MAX_REPLAYS */
    maxReplays?: number | undefined;
  }) {
    this.#nc = deps.nc;
    this.#js = deps.js;
    this.#serving = deps.serving;
    this.#publisher = deps.publisher;
    this.#logger = deps.logger;
    this.#max = deps.maxReplays ?? DEFAULT_MAX_REPLAYS;
  }

  start(): void {
    this.#subs = [
      this.#nc.subscribe(REPLAY_REQUEST_SUBJECT, {
        queue: REPLAY_QUEUE,
        callback: (err, m) => {
          if (!err) void this.#run(m);
        },
      }),
      this.#nc.subscribe(REPLAY_CANCEL_FILTER, {
        callback: (err, m) => {
          if (!err) this.#running.get(m.subject.split('.')[3] ?? '')?.abort(new Error('cancelled'));
        },
      }),
    ];
  }

  async stop(): Promise<void> {
    for (const sub of this.#subs) sub.unsubscribe();
    for (const abort of this.#running.values()) abort.abort(new Error('the inference component stopped'));
  }

  async #run(m: Msg): Promise<void> {
    const answer = (update: ReplayUpdate) => {
      if (m.reply) this.#nc.publish(m.reply, JSON.stringify(update));
    };
    let request: ReplayRequest;
    try {
      request = m.json<ReplayRequest>();
    } catch {
      return answer({ status: 'failed', error: 'not a replay request' });
    }
    if (this.#running.size >= this.#max) {
      return answer({ status: 'failed', error: `${this.#max} replays run already; try again later` });
    }
    const abort = new AbortController();
    this.#running.set(request.jobId, abort);
    let progress = 0;
    answer({ status: 'running', progress });
    const heartbeat = setInterval(() => answer({ status: 'running', progress }), REPLAY_HEARTBEAT_MS);
    try {
      const s = await this.#serving.serves(request.modelId, request.version, REPLAY_SERVING_WAIT_MS);
      const binding = s?.model.bindings.find((b) => b.bindingId === request.bindingId);
      // the API checked the tenant's binding; another tenant's id is not found here either
      if (!s || s.model.tenantId !== request.tenantId || !binding) {
        throw new Error(
          `binding ${request.bindingId}: version ${request.version} of its model does not serve here`,
        );
      }
      const result = await replayBinding(this.#js, this.#publisher, s, binding, {
        from: new Date(request.from),
        to: new Date(request.to),
        signal: abort.signal,
        onProgress: (p) => {
          progress = p;
          answer({ status: 'running', progress });
        },
      });
      this.#logger.info({ model: s.model.name, binding: binding.bindingId, ...result }, 'binding replayed');
      answer({ status: 'done', result });
    } catch (err) {
      answer({ status: 'failed', error: String((err as Error)?.message ?? err) });
    } finally {
      clearInterval(heartbeat);
      this.#running.delete(request.jobId);
    }
  }
}
