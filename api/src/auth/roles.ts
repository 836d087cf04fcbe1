import { USER_ROLES, type UserRole } from '@telly/schemas';

/**
 * Roles a user (or API key) can hold within a tenant, from most to least powerful. The same list as
 * the registry events' `USER_ROLES`, so a role in a token is always one the registry can grant.
 */
export const ROLES: typeof USER_ROLES = USER_ROLES;

/** One of {@link ROLES}. */
export type Role = UserRole;

/** Power of each role: higher outranks lower (`owner` 4 … `viewer` 0). */
export const ROLE_RANK: Readonly<Record<Role, number>> = Object.freeze({
  owner: 4,
  admin: 3,
  operator: 2,
  analyst: 1,
  viewer: 0,
});

/** True when `value` is one of {@link ROLES}. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && Object.hasOwn(ROLE_RANK, value);
}

/** True when `role` is `minimum` or more powerful: `atLeast('admin', 'operator') === true`. */
export function atLeast(role: Role, minimum: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[minimum];
}

/** The most powerful of `roles`, or undefined when there are none. */
export function highestRole(roles: Iterable<Role>): Role | undefined {
  let best: Role | undefined;
  for (const role of roles) if (best === undefined || ROLE_RANK[role] > ROLE_RANK[best]) best = role;
  return best;
}
