import type { UserRole } from '@telly/schemas';
import type { Decider, EventDraft } from './decider.ts';
import { notFound, RegistryError } from './errors.ts';

export interface ApiKeyState {
  status: 'absent' | 'active' | 'revoked';
  role: UserRole | undefined;
}

export type ApiKeyCommand =
  | {
      type: 'create';
      apikeyId: string;
      name: string;
      keyHash: string;
      role: UserRole;
      expiresAt?: string | undefined;
    }
  | { type: 'revoke'; apikeyId: string };

export const apiKeyDecider: Decider<ApiKeyCommand, ApiKeyState> = {
  initialState: () => ({ status: 'absent', role: undefined }),
  evolve(state, event) {
    switch (event.type) {
      case 'apikey.created':
        return { status: 'active', role: event.data.role };
      case 'apikey.revoked':
        return { ...state, status: 'revoked' };
      default:
        return state;
    }
  },
  decide(command, state): EventDraft[] {
    const { apikeyId } = command;
    if (command.type === 'create') {
      if (state.status !== 'absent') {
        throw new RegistryError('ALREADY_EXISTS', `API key ${apikeyId} already exists`);
      }
      const { name, keyHash, role, expiresAt } = command;
      return [
        {
          type: 'apikey.created',
          data: { apikeyId, name, keyHash, role, ...(expiresAt !== undefined ? { expiresAt } : {}) },
        },
      ];
    }
    if (state.status === 'absent') throw notFound('API key', apikeyId);
    return state.status === 'revoked' ? [] : [{ type: 'apikey.revoked', data: { apikeyId } }];
  },
};
