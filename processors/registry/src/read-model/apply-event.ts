import type pg from 'pg';
import type { RegistryEvent, RegistryEventType } from '../domain/decider.ts';
import { apiKeyHandlers } from './apply/apikey.ts';
import { bootstrapHandlers } from './apply/bootstrap.ts';
import { channelHandlers } from './apply/channel.ts';
import { kafkaHandlers } from './apply/kafka.ts';
import { modelHandlers } from './apply/model.ts';
import { ruleHandlers } from './apply/rule.ts';
import { tenantHandlers } from './apply/tenant.ts';
import { thingHandlers } from './apply/thing.ts';
import type { ApplyHandler, ApplyHandlers, Touched } from './apply/types.ts';
import { userHandlers } from './apply/user.ts';

export type { Touched } from './apply/types.ts';

/** Every registry event type's handler, one file per aggregate. */
const HANDLERS: ApplyHandlers = {
  ...tenantHandlers,
  ...userHandlers,
  ...thingHandlers,
  ...channelHandlers,
  ...apiKeyHandlers,
  ...bootstrapHandlers,
  ...modelHandlers,
  ...ruleHandlers,
  ...kafkaHandlers,
};

/**
 * Applies one registry event to the read model inside the projection's transaction. Every
 * statement is idempotent in effect and takes times from the event, so a replay of the log
 * produces the same rows byte for byte.
 */
export function applyEvent(
  db: pg.PoolClient,
  event: RegistryEvent,
  seq: number,
  touched: Touched,
): Promise<void> {
  const handler = HANDLERS[event.type] as ApplyHandler<RegistryEventType>;
  return handler(db, event, { seq, touched });
}
