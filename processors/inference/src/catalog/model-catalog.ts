import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from '@telly/runtime';
import { decodeEvent, STREAMS, SUBJECT_PREFIXES } from '@telly/schemas';
import { evolveModel, initialModelState, type ModelEvent, type ModelState } from './model-state.ts';

/** Every tenant's models (`reg.*.model.*`). */
export const MODEL_EVENTS_FILTER = `${SUBJECT_PREFIXES.REGISTRY}.*.model.*`;

/** How long a caller waits for the catalog to see a write. @default 5000 */
export const DEFAULT_CATALOG_WAIT_MS = 5_000;

/**
 * Every tenant's models as the fold of their events, kept current by an ordered consumer on
 * REGISTRY from the first model event: the API's `models` / `model(id)` and the inference
 * processor's bindings read it. Memory is bounded by the models' metadata (no files).
 */
export class ModelCatalog {
  readonly #models = new Map<string, ModelState>();
  readonly #listeners = new Set<(model: ModelState) => void>();
  #seq = 0;
  #waiters: { seq: number; resolve: () => void }[] = [];
  #stop: (() => void) | undefined;

  /** The models of a tenant (deleted ones aside), by name. */
  list(tenantId: string): ModelState[] {
    return [...this.#models.values()]
      .filter((m) => m.tenantId === tenantId && !m.deleted)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A model of the tenant, or undefined (another tenant's id is not found). */
  get(tenantId: string, modelId: string): ModelState | undefined {
    const model = this.#models.get(modelId);
    return model && model.tenantId === tenantId && !model.deleted ? model : undefined;
  }

  byName(tenantId: string, name: string): ModelState | undefined {
    return this.list(tenantId).find((m) => m.name === name);
  }

  /** Every model serving a version, all tenants. */
  deployed(): ModelState[] {
    return [...this.#models.values()].filter((m) => !m.deleted && m.deployedVersion !== undefined);
  }

  /** Called with a model after each of its events. */
  onChange(listener: (model: ModelState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  apply(event: ModelEvent, seq: number): void {
    const id = event.data.modelId;
    const next = evolveModel(this.#models.get(id) ?? initialModelState(), event);
    this.#models.set(id, next);
    this.#seq = Math.max(this.#seq, seq);
    for (const listener of this.#listeners) listener(next);
    const due = this.#waiters.filter((w) => w.seq <= this.#seq);
    this.#waiters = this.#waiters.filter((w) => w.seq > this.#seq);
    for (const w of due) w.resolve();
  }

  /** Resolves once the catalog has seen the REGISTRY entry `seq` (a write's ack). */
  waitFor(seq: number, timeoutMs = DEFAULT_CATALOG_WAIT_MS): Promise<void> {
    if (seq <= this.#seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`model catalog did not see seq ${seq} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push({
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /**
   * Reads every model event, then follows new ones until `stop()`. Resolves once the history
   * present at the start is folded.
   */
  async follow(js: JetStreamClient, logger: Logger): Promise<void> {
    const stream = await js.streams.get(STREAMS.REGISTRY.name);
    const { state } = await stream.info(false);
    const consumer = await js.consumers.get(STREAMS.REGISTRY.name, {
      filter_subjects: MODEL_EVENTS_FILTER, // one filter as a string: the consumer is created by name (least privilege)
      deliver_policy: DeliverPolicy.All,
    });
    const messages = await consumer.consume({ max_messages: 256 });
    let caughtUp: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      caughtUp = resolve;
    });
    const head = state.last_seq;
    this.#stop = () => {
      messages.stop();
      consumer.delete().catch(() => false);
    };
    (async () => {
      for await (const m of messages) {
        try {
          this.apply(decodeEvent(m.data) as ModelEvent, m.seq);
        } catch (err) {
          logger.error({ err, seq: m.seq }, 'a model event does not decode; skipped');
        }
        if (m.info.pending === 0) caughtUp();
      }
    })().catch((err: unknown) => logger.error({ err }, 'model catalog stopped following'));
    // nothing to read, or everything read before the first message arrives
    const initial = await consumer.info(true).catch(() => undefined);
    if (head === 0 || initial?.num_pending === 0) caughtUp();
    await ready;
    this.#seq = Math.max(this.#seq, head);
  }

  stop(): void {
    this.#stop?.();
  }
}
