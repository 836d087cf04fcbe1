import { builder, principalOf } from '../builder.ts';
import type { AuthResult } from '../services/auth-service.ts';
import type { UserRow } from '../services/queries.ts';
import { RoleEnum } from './enums.ts';
import { connectionType, pageComplexity, toConnection } from './pagination.ts';

interface TenantShape {
  id: string;
  name: string;
  created_at: Date;
}

export const Tenant = builder.objectRef<TenantShape>('Tenant').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.field({ type: 'DateTime', resolve: (x) => x.created_at }),
  }),
});

export const User = builder.objectRef<UserRow>('User').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    role: t.field({ type: RoleEnum, resolve: (u) => u.role as never }),
    createdAt: t.field({ type: 'DateTime', resolve: (u) => u.created_at }),
    tenant: t.field({
      type: Tenant,
      resolve: async (u, _args, ctx) => {
        const tenant = await ctx.services.queries.tenant(u.tenant_id);
        if (!tenant) throw new Error(`tenant ${u.tenant_id} of user ${u.id} is missing`);
        return tenant;
      },
    }),
  }),
});

export const UserConnection = connectionType('User', User);

const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
  fields: (t) => ({
    accessToken: t.exposeString('accessToken'),
    accessTokenExpiresAt: t.field({ type: 'DateTime', resolve: (a) => a.accessTokenExpiresAt }),
    refreshToken: t.exposeString('refreshToken'),
    user: t.field({
      type: User,
      resolve: async (a, _args, ctx) => must(await ctx.services.queries.userById(a.userId), 'user', a.userId),
    }),
  }),
});

const SignupInput = builder.inputType('SignupInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    tenantName: t.string({ required: true }),
  }),
});
const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({ email: t.string({ required: true }), password: t.string({ required: true }) }),
});
const InviteUserInput = builder.inputType('InviteUserInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: 'initial password; the user should change it' }),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});

builder.queryFields((t) => ({
  me: t.field({
    type: User,
    authScopes: { authenticated: true },
    resolve: async (_root, _args, ctx) => {
      const p = principalOf(ctx);
      const user = await ctx.services.queries.user(p.tenantId, p.id);
      if (user) return user;
      // API keys and OIDC identities are not registry users: describe them as such
      return { id: p.id, tenant_id: p.tenantId, email: '', role: p.role, created_at: new Date(0) };
    },
  }),
  tenant: t.field({
    type: Tenant,
    authScopes: { viewer: true },
    resolve: async (_root, _args, ctx) => {
      const p = principalOf(ctx);
      const tenant = await ctx.services.queries.tenant(p.tenantId);
      if (!tenant) throw new Error(`tenant ${p.tenantId} missing from the read model`);
      return tenant;
    },
  }),
  users: t.field({
    type: UserConnection,
    authScopes: { admin: true },
    complexity: pageComplexity,
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, ctx) =>
      toConnection(await ctx.services.queries.users(principalOf(ctx).tenantId, args)),
  }),
}));

builder.mutationFields((t) => ({
  signup: t.field({
    type: AuthPayload,
    description: 'Creates a tenant and its first user (owner), and logs in.',
    args: { input: t.arg({ type: SignupInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.auth.signup(input, ctx.clientAddress),
  }),
  login: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: LoginInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.auth.login(input, ctx.clientAddress),
  }),
  refresh: t.field({
    type: AuthPayload,
    description: 'Spends a refresh token for a new pair. A refresh token used twice ends its session.',
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.auth.refresh(args.refreshToken),
  }),
  logout: t.boolean({
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.auth.logout(args.refreshToken),
  }),
  changePassword: t.boolean({
    authScopes: { authenticated: true },
    description: 'Changes your password; every other session of yours ends.',
    args: {
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, ctx) => {
      await ctx.services.auth.changePassword(
        principalOf(ctx),
        args.currentPassword,
        args.newPassword,
        ctx.clientAddress,
      );
      return true;
    },
  }),
  inviteUser: t.field({
    type: User,
    authScopes: { admin: true },
    args: { input: t.arg({ type: InviteUserInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const p = principalOf(ctx);
      const userId = await ctx.services.registry.inviteUser(p, input);
      return must(await ctx.services.queries.user(p.tenantId, userId), 'user', userId);
    },
  }),
  setUserRole: t.field({
    type: User,
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true }), role: t.arg({ type: RoleEnum, required: true }) },
    resolve: async (_root, args, ctx) => {
      const p = principalOf(ctx);
      await ctx.services.registry.setUserRole(p, args.userId, args.role);
      await ctx.services.revocations.announce(p.tenantId);
      return must(await ctx.services.queries.user(p.tenantId, args.userId), 'user', args.userId);
    },
  }),
  deleteUser: t.boolean({
    authScopes: { admin: true },
    args: { userId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const p = principalOf(ctx);
      await ctx.services.registry.deleteUser(p, args.userId);
      await ctx.services.revocations.announce(p.tenantId);
      return true;
    },
  }),
  renameTenant: t.field({
    type: Tenant,
    authScopes: { owner: true },
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const p = principalOf(ctx);
      await ctx.services.registry.renameTenant(p, args.name);
      return must(await ctx.services.queries.tenant(p.tenantId), 'tenant', p.tenantId);
    },
  }),
}));

/** After a write the read model has the row (read-your-writes); its absence is a bug, not a 404. */
export function must<T>(row: T | undefined, what: string, id: string): T {
  if (row === undefined) throw new Error(`${what} ${id} missing from the read model after a write`);
  return row;
}
