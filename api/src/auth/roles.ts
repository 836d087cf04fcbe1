import { USER_ROLES, type UserRole } from '@telly/schemas';

/**
 * Roles a user (or API key) can hold within a tenant, from most to least powerful. The same list as
 * the registry events' `USER_ROLES`, so a role in a token is always one the registry can grant.
 */
export const ROLES: typeof USER_ROLES = USER_ROLES;

/** One of {@link ROLES}. */
export type Role = UserRole;

/**
 * Ranking lives with the roles' contract, in the registry domain: `ROLE_RANK`, `isRole`,
 * `atLeast` and `highestRole` are the registry's.
 */
export { atLeast, highestRole, isRole, ROLE_RANK } from '@telly/registry';
