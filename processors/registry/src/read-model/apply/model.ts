import type { ModelEventType } from '@telly/schemas';
import type { ApplyHandlers } from './types.ts';

/** Models are read by @telly/inference (a fold of their events): nothing of them is in these tables. */
const ignored = async () => {};

export const modelHandlers: Pick<ApplyHandlers, ModelEventType> = {
  'model.created': ignored,
  'model.version-added': ignored,
  'model.deployed': ignored,
  'model.undeployed': ignored,
  'model.bound': ignored,
  'model.unbound': ignored,
  'model.deleted': ignored,
};
