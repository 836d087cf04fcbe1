import type { Decider, EventDraft } from './decider.ts';
import { notFound, RegistryError } from './errors.ts';

export interface TenantState {
  status: 'absent' | 'active' | 'deleted';
  name: string;
}

export type TenantCommand =
  | { type: 'create'; tenantId: string; name: string }
  | { type: 'rename'; tenantId: string; name: string }
  | { type: 'delete'; tenantId: string };

export const tenantDecider: Decider<TenantCommand, TenantState> = {
  initialState: () => ({ status: 'absent', name: '' }),
  evolve(state, event) {
    switch (event.type) {
      case 'tenant.created':
        return { status: 'active', name: event.data.name };
      case 'tenant.renamed':
        return { ...state, name: event.data.name };
      case 'tenant.deleted':
        return { ...state, status: 'deleted' };
      default:
        return state;
    }
  },
  decide(command, state): EventDraft[] {
    if (command.type === 'create') {
      if (state.status !== 'absent') {
        throw new RegistryError('ALREADY_EXISTS', `tenant ${command.tenantId} already exists`);
      }
      return [{ type: 'tenant.created', data: { name: command.name } }];
    }
    if (state.status !== 'active') throw notFound('tenant', command.tenantId);
    if (command.type === 'delete') return [{ type: 'tenant.deleted', data: {} }];
    return command.name === state.name ? [] : [{ type: 'tenant.renamed', data: { name: command.name } }];
  },
};
