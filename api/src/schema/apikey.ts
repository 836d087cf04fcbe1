import { builder, principalOf } from '../builder.ts';
import type { ApiKeyRow } from '../services/queries.ts';
import { RoleEnum } from './enums.ts';

const ApiKey = builder.objectRef<ApiKeyRow>('ApiKey').implement({
  description: 'A key for scripts and services: `Authorization: Bearer <key>` with the role it was given.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.field({ type: RoleEnum, resolve: (k) => k.role as never }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.expires_at }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.revoked_at }),
    createdAt: t.field({ type: 'DateTime', resolve: (k) => k.created_at }),
  }),
});

const CreateApiKeyPayload = builder
  .objectRef<{ apiKey: ApiKeyRow; key: string }>('CreateApiKeyPayload')
  .implement({
    fields: (t) => ({
      apiKey: t.field({ type: ApiKey, resolve: (x) => x.apiKey }),
      key: t.exposeString('key', { description: 'The key. Shown once: only its hash is stored.' }),
    }),
  });

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    role: t.field({ type: RoleEnum, required: true, description: 'at most the creator’s own role' }),
    expiresAt: t.field({ type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  apiKeys: t.field({
    type: [ApiKey],
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.services.queries.apiKeys(principalOf(ctx).tenantId),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const p = principalOf(ctx);
      const { apikeyId, key } = await ctx.services.registry.createApiKey(p, input);
      const apiKey = (await ctx.services.queries.apiKeys(p.tenantId)).find((k) => k.id === apikeyId);
      if (!apiKey) throw new Error(`API key ${apikeyId} missing from the read model after a write`);
      return { apiKey, key };
    },
  }),
  revokeApiKey: t.boolean({
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const p = principalOf(ctx);
      await ctx.services.registry.revokeApiKey(p, args.id);
      await ctx.services.revocations.announce(p.tenantId);
      return true;
    },
  }),
}));
