import type { UserRole } from '@telly/schemas';
import type { Decider, EventDraft } from './decider.ts';
import { notFound, RegistryError } from './errors.ts';

export interface UserState {
  status: 'absent' | 'active' | 'deleted';
  userId: string;
  email: string;
  passwordHash: string;
  roles: ReadonlySet<UserRole>;
}

export type UserCommand =
  | { type: 'register'; userId: string; email: string; passwordHash: string; role: UserRole }
  /** `otherOwners`: how many other owners the tenant has, loaded by the handler. */
  | { type: 'set-role'; userId: string; role: UserRole; otherOwners: number }
  | { type: 'change-password'; userId: string; passwordHash: string }
  | { type: 'delete'; userId: string; otherOwners: number };

function assertNotLastOwner(state: UserState, otherOwners: number): void {
  if (state.roles.has('owner') && otherOwners === 0) {
    throw new RegistryError('NOT_ALLOWED', 'a tenant must keep at least one owner');
  }
}

export const userDecider: Decider<UserCommand, UserState> = {
  initialState: () => ({ status: 'absent', userId: '', email: '', passwordHash: '', roles: new Set() }),
  evolve(state, event) {
    switch (event.type) {
      case 'user.registered':
        return {
          status: 'active',
          userId: event.data.userId,
          email: event.data.email,
          passwordHash: event.data.passwordHash,
          roles: new Set(event.data.roles),
        };
      case 'user.role-granted':
        return { ...state, roles: new Set([...state.roles, event.data.role]) };
      case 'user.role-revoked':
        return { ...state, roles: new Set([...state.roles].filter((r) => r !== event.data.role)) };
      case 'user.password-changed':
        return { ...state, passwordHash: event.data.passwordHash };
      case 'user.deleted':
        return { ...state, status: 'deleted', roles: new Set() };
      default:
        return state;
    }
  },
  decide(command, state): EventDraft[] {
    const { userId } = command;
    if (command.type === 'register') {
      if (state.status !== 'absent')
        throw new RegistryError('ALREADY_EXISTS', `user ${userId} already exists`);
      const { email, passwordHash, role } = command;
      return [{ type: 'user.registered', data: { userId, email, passwordHash, roles: [role] } }];
    }
    if (state.status !== 'active') throw notFound('user', userId);
    switch (command.type) {
      case 'set-role': {
        if (state.roles.size === 1 && state.roles.has(command.role)) return [];
        if (command.role !== 'owner') assertNotLastOwner(state, command.otherOwners);
        const events: EventDraft[] = [];
        if (!state.roles.has(command.role)) {
          events.push({ type: 'user.role-granted', data: { userId, role: command.role } });
        }
        for (const role of state.roles) {
          if (role !== command.role) events.push({ type: 'user.role-revoked', data: { userId, role } });
        }
        return events;
      }
      case 'change-password':
        return [{ type: 'user.password-changed', data: { userId, passwordHash: command.passwordHash } }];
      case 'delete':
        assertNotLastOwner(state, command.otherOwners);
        return [{ type: 'user.deleted', data: { userId } }];
    }
  },
};
