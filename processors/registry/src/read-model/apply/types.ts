import type { EventOf } from '@telly/schemas';
import type pg from 'pg';
import type { RegistryEventType } from '../../domain/decider.ts';

/** What applying an event touched outside Postgres: things whose credentials must be re-synced. */
export interface Touched {
  things: Set<string>;
}

/** Where an event is applied: its stream sequence and what it touched. */
export interface ApplyContext {
  seq: number;
  touched: Touched;
}

/** Applies one event of type `T` to the read model inside the projection's transaction. */
export type ApplyHandler<T extends RegistryEventType> = (
  db: pg.PoolClient,
  event: EventOf<T>,
  ctx: ApplyContext,
) => Promise<void>;

/** One handler per registry event type: a new event type without one fails the typecheck. */
export type ApplyHandlers = { [T in RegistryEventType]: ApplyHandler<T> };
