import type { EventData, RuleDefinition } from '@telly/schemas';
import { RuleError } from './errors.ts';

/** What can be done to a rule (the registry's store runs these through {@link ruleDecider}). */
export type RuleCommand =
  | { type: 'create'; ruleId: string; def: RuleDefinition; enabled: boolean }
  | { type: 'update'; def: RuleDefinition }
  | { type: 'enable' }
  | { type: 'disable' }
  | { type: 'delete' };

export interface RuleState {
  status: 'none' | 'active' | 'deleted';
  ruleId: string | null;
  enabled: boolean;
  def: RuleDefinition | null;
}

type RuleEventDraft =
  | { type: 'rule.created'; data: EventData<'rule.created'> }
  | { type: 'rule.updated'; data: EventData<'rule.updated'> }
  | { type: 'rule.enabled'; data: EventData<'rule.enabled'> }
  | { type: 'rule.disabled'; data: EventData<'rule.disabled'> }
  | { type: 'rule.deleted'; data: EventData<'rule.deleted'> };

type RuleEvent = { type: string; data: unknown };

const initialState = (): RuleState => ({ status: 'none', ruleId: null, enabled: false, def: null });

function definitionOf(data: EventData<'rule.created'> | EventData<'rule.updated'>): RuleDefinition {
  const { ruleId: _id, ...rest } = data;
  const { enabled: _enabled, ...def } = rest as typeof rest & { enabled?: boolean };
  return def;
}

/** emmett-style decider of a rule: pure, as the registry's deciders are. */
export const ruleDecider = {
  initialState,
  evolve(state: RuleState, event: RuleEvent): RuleState {
    switch (event.type) {
      case 'rule.created': {
        const data = event.data as EventData<'rule.created'>;
        return { status: 'active', ruleId: data.ruleId, enabled: data.enabled, def: definitionOf(data) };
      }
      case 'rule.updated':
        return { ...state, def: definitionOf(event.data as EventData<'rule.updated'>) };
      case 'rule.enabled':
        return { ...state, enabled: true };
      case 'rule.disabled':
        return { ...state, enabled: false };
      case 'rule.deleted':
        return { ...state, status: 'deleted', enabled: false };
      default:
        return state;
    }
  },
  decide(command: RuleCommand, state: RuleState): RuleEventDraft[] {
    if (command.type === 'create') {
      if (state.status !== 'none') throw new RuleError('INVALID_RULE', `rule ${command.ruleId} exists`, 'id');
      return [
        { type: 'rule.created', data: { ruleId: command.ruleId, ...command.def, enabled: command.enabled } },
      ];
    }
    if (state.status !== 'active' || !state.ruleId) throw new RuleError('NOT_FOUND', 'rule not found', 'id');
    const ruleId = state.ruleId;
    switch (command.type) {
      case 'update':
        return JSON.stringify(command.def) === JSON.stringify(state.def)
          ? []
          : [{ type: 'rule.updated', data: { ruleId, ...command.def } }];
      case 'enable':
        return state.enabled ? [] : [{ type: 'rule.enabled', data: { ruleId } }];
      case 'disable':
        return state.enabled ? [{ type: 'rule.disabled', data: { ruleId } }] : [];
      case 'delete':
        return [{ type: 'rule.deleted', data: { ruleId } }];
    }
  },
};
