import { ROLES } from '../auth/roles.ts';
import { builder } from '../builder.ts';

export const RoleEnum = builder.enumType('Role', {
  description: 'A role within a tenant, from most to least powerful.',
  values: ROLES,
});
