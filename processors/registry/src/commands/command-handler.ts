import { isTellyId, type RegistryKind } from '@telly/schemas';
import type pg from 'pg';
import type { Decider } from '../domain/decider.ts';
import { notFound, RegistryError } from '../domain/errors.ts';
import { type ClaimKind, claim, releaseClaim } from '../read-model/claims.ts';
import type { ProjectionWaiter } from '../read-model/wait.ts';
import type { EntityRef, HandleResult, RegistryStore } from '../store.ts';

/** Who issues a command, and the tenant every entity it names is looked up in. */
export interface CommandActor {
  tenantId: string;
  /** A user id, `apikey:<id>` or `system`; recorded on the events. */
  actor?: string | undefined;
}

/**
 * The one way a registry command runs: load the entity's state from its history, decide, append
 * with optimistic concurrency (re-deciding on a concurrent change, see {@link RegistryStore.handle}),
 * then wait until the read model shows the change, so the caller reads its own writes.
 */
export class CommandHandler {
  readonly #store: RegistryStore;
  readonly #waiter: ProjectionWaiter;
  readonly #pool: pg.Pool;

  constructor(store: RegistryStore, waiter: ProjectionWaiter, pool: pg.Pool) {
    this.#store = store;
    this.#waiter = waiter;
    this.#pool = pool;
  }

  /** Decides and appends, then waits for the read model (nothing to wait for when nothing changed). */
  async run<C, S>(
    decider: Decider<C, S>,
    ref: EntityRef,
    command: C | ((state: S) => C | Promise<C>),
    by: CommandActor,
  ): Promise<void> {
    await this.settle(await this.append(decider, ref, command, by));
  }

  /** Decides and appends without waiting: for the first of several appends of one command. */
  append<C, S>(
    decider: Decider<C, S>,
    ref: EntityRef,
    command: C | ((state: S) => C | Promise<C>),
    by: CommandActor,
  ): Promise<HandleResult> {
    return this.#store.handle(decider, ref, command, { actor: by.actor });
  }

  /** Waits until the read model shows what was appended. */
  async settle({ events, seq }: HandleResult): Promise<void> {
    if (events.length > 0) await this.#waiter.waitFor(seq);
  }

  /** An entity's current state (an id of another tenant: the initial state). */
  async state<C, S>(decider: Decider<C, S>, ref: EntityRef): Promise<S> {
    return (await this.#store.load(decider, ref)).state;
  }

  /**
   * Runs `work` under a claim on a value unique across tenants, releasing the claim when it fails.
   * @throws RegistryError TAKEN when another entity holds the value.
   */
  async withClaim(kind: ClaimKind, value: string, ownerId: string, work: () => Promise<void>): Promise<void> {
    if (!(await claim(this.#pool, kind, value, ownerId))) {
      throw new RegistryError('TAKEN', `the ${kind} ${JSON.stringify(value)} is taken`);
    }
    try {
      await work();
    } catch (err) {
      await releaseClaim(this.#pool, kind, value, ownerId).catch(() => {});
      throw err;
    }
  }
}

/**
 * An entity of the actor's tenant. A malformed id cannot name anything: NOT_FOUND, exactly as
 * for another tenant's id (`what` names it in the message).
 */
export function entityRef(by: CommandActor, kind: RegistryKind, id: string, what: string = kind): EntityRef {
  if (!isTellyId(id)) throw notFound(what, id);
  return { tenantId: by.tenantId, kind, id };
}
