import assert from 'node:assert/strict';
import { test } from 'node:test';
import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { NO_SUCH_ID } from '@telly/schemas';
import { graphql, parse, subscribe } from 'graphql';
import { v7 } from 'uuid';
import { TELLY_ID_PLUGIN } from './telly-id.ts';

/** A schema whose fields answer the ids their resolvers were given. */
function echoSchema() {
  const builder = new SchemaBuilder<{ Scalars: { ID: { Input: string; Output: string } } }>({
    // the app's plugins, with no scopes in the way
    plugins: [ScopeAuthPlugin, TELLY_ID_PLUGIN],
    scopeAuth: { authScopes: () => ({}) },
  });
  const Inner = builder.inputType('Inner', { fields: (t) => ({ ids: t.idList({ required: true }) }) });
  const Outer = builder.inputType('Outer', {
    fields: (t) => ({
      thingId: t.id(),
      name: t.string(),
      inner: t.field({ type: Inner }),
    }),
  });
  builder.queryType({
    fields: (t) => ({
      echo: t.string({
        args: { id: t.arg.id(), ids: t.arg.idList(), input: t.arg({ type: Outer }), label: t.arg.string() },
        resolve: (_root, args) => JSON.stringify(args),
      }),
    }),
  });
  builder.subscriptionType({
    fields: (t) => ({
      echo: t.string({
        args: { id: t.arg.id({ required: true }) },
        subscribe: async function* (_root, args) {
          yield args.id;
        },
        resolve: (id) => id as string,
      }),
    }),
  });
  return builder.toSchema();
}

test('every ID argument and input field reaches the resolver as a Telly id or the id of nothing', async () => {
  const schema = echoSchema();
  const id = v7();
  const result = await graphql({
    schema,
    source: `query($input: Outer) {
      echo(id: "not-a-uuid", ids: ["${id}", "${id.toUpperCase()}", 7], input: $input, label: "not-a-uuid")
    }`,
    variableValues: { input: { thingId: id, name: 'not-a-uuid', inner: { ids: ['x', id] } } },
  });
  assert.equal(result.errors, undefined);
  assert.deepEqual(JSON.parse(String(result.data?.echo)), {
    id: NO_SUCH_ID,
    ids: [id, NO_SUCH_ID, NO_SUCH_ID],
    input: { thingId: id, name: 'not-a-uuid', inner: { ids: [NO_SUCH_ID, id] } },
    label: 'not-a-uuid',
  });
  const absent = await graphql({ schema, source: '{ echo }' });
  assert.deepEqual(JSON.parse(String(absent.data?.echo)), {});
});

test('subscription arguments are read the same way', async () => {
  const events = (await subscribe({
    schema: echoSchema(),
    document: parse('subscription { echo(id: "nope") }'),
  })) as AsyncIterableIterator<{ data?: { echo?: string } }>;
  const first = await events.next();
  assert.equal(first.value?.data?.echo, NO_SUCH_ID);
  await events.return?.();
});
