import type { ObjectRef } from '@pothos/core';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '@telly/runtime';
import { builder } from '../builder.ts';

type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never;

import { encodeCursor, type Page } from '../services/queries.ts';

export const PageInfo = builder
  .objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo')
  .implement({
    fields: (t) => ({
      hasNextPage: t.exposeBoolean('hasNextPage'),
      endCursor: t.exposeString('endCursor', { nullable: true }),
    }),
  });

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export function toConnection<T extends { id: string }>(page: Page<T>): Connection<T> {
  const edges = page.items.map((node) => ({ cursor: encodeCursor(node.id), node }));
  return {
    edges,
    nodes: page.items,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges[edges.length - 1]?.cursor ?? null },
    totalCount: page.totalCount,
  };
}

/** What a connection field costs beside its items: a count and a page query. */
export const PAGE_QUERY_COST = 10;

/**
 * The cost of a connection field (see `complexity` in builder.ts): its queries, plus its
 * selection once per item the page may hold (`first`, by default {@link DEFAULT_PAGE_SIZE}, at
 * most {@link MAX_PAGE_SIZE} as the query clamps it).
 */
export const pageComplexity = (args: { first?: number | null | undefined }) => ({
  field: PAGE_QUERY_COST,
  multiplier: Math.min(Math.max(args.first ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE),
});

/** `<Name>Connection` with `<Name>Edge`, in the Relay shape plus `nodes` and `totalCount`. */
export function connectionType<T>(name: string, node: ObjectRef<BuilderTypes, T>) {
  const Edge = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      node: t.field({ type: node, resolve: (edge) => edge.node as never }),
    }),
  });
  return builder.objectRef<Connection<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      // the page's size is counted once, on the connection field (pageComplexity)
      edges: t.field({ type: [Edge], complexity: { field: 1, multiplier: 1 }, resolve: (c) => c.edges }),
      nodes: t.field({
        type: [node],
        complexity: { field: 1, multiplier: 1 },
        resolve: (c) => c.nodes as never,
      }),
      pageInfo: t.field({ type: PageInfo, resolve: (c) => c.pageInfo }),
      totalCount: t.exposeInt('totalCount'),
    }),
  });
}
