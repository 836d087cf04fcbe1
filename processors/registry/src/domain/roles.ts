import { USER_ROLES, type UserRole } from '@telly/schemas';

/**
 * Power of each role, from the event catalog's order (`USER_ROLES` runs from most to least
 * powerful): higher outranks lower, `owner` 4 … `viewer` 0.
 */
export const ROLE_RANK: Readonly<Record<UserRole, number>> = Object.freeze(
  Object.fromEntries(USER_ROLES.map((role, i) => [role, USER_ROLES.length - 1 - i])) as Record<
    UserRole,
    number
  >,
);

/** True when `value` is one of `USER_ROLES`. */
export function isRole(value: unknown): value is UserRole {
  return typeof value === 'string' && Object.hasOwn(ROLE_RANK, value);
}

/** True when `role` is `minimum` or more powerful: `atLeast('admin', 'operator') === true`. */
export function atLeast(role: UserRole, minimum: UserRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[minimum];
}

/** The most powerful of `roles` (the one a user with several acts as), or undefined for none. */
export function highestRole(roles: Iterable<UserRole>): UserRole | undefined {
  let best: UserRole | undefined;
  for (const role of roles) if (best === undefined || ROLE_RANK[role] > ROLE_RANK[best]) best = role;
  return best;
}
