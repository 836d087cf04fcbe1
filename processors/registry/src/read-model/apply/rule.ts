import type { ApplyHandlers } from './types.ts';

type RuleEventType = 'rule.created' | 'rule.updated' | 'rule.enabled' | 'rule.disabled' | 'rule.deleted';

/** Rules are projected by @telly/rules into its own tables: nothing of them is in these. */
const ignored = async () => {};

export const ruleHandlers: Pick<ApplyHandlers, RuleEventType> = {
  'rule.created': ignored,
  'rule.updated': ignored,
  'rule.enabled': ignored,
  'rule.disabled': ignored,
  'rule.deleted': ignored,
};
