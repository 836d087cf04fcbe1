import { isTellyId } from '@telly/schemas';
import type pg from 'pg';

/** Items in a page when the caller does not say. @default 50 */
export const DEFAULT_PAGE_SIZE = 50;
/** The most items one page holds, whatever the caller asks. @default 500 */
export const MAX_PAGE_SIZE = 500;

/** One page of a list, and how many items the whole list holds. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  totalCount: number;
}

export interface PageArgs {
  /** @default {@link DEFAULT_PAGE_SIZE}, at most {@link MAX_PAGE_SIZE} */
  first?: number | null | undefined;
  /** Opaque cursor from {@link encodeCursor}: the id of the last item of the previous page. */
  after?: string | null | undefined;
}

/** A keyset-paged query over rows aliased `t` whose `t.id` orders them (UUIDv7 ids are time-ordered). */
export interface PageQuery {
  /** `SELECT … FROM <table> t`, without WHERE. */
  select: string;
  /** Conditions joined with AND, numbered `$1`… in `params`. */
  where: readonly string[];
  params: readonly unknown[];
  /** @default 'asc' */
  order?: 'asc' | 'desc';
}

/** A cursor pointing after the item with this id. */
export const encodeCursor = (id: string): string => Buffer.from(id).toString('base64url');

/** The id a cursor points after; undefined for none or one that names no id (the list starts over). */
export function decodeCursor(cursor: string | null | undefined): string | undefined {
  if (!cursor) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString();
  return isTellyId(id) ? id : undefined;
}

/** Runs a {@link PageQuery}: the page after `args.after` in id order, and the list's total count. */
export async function queryPage<T extends pg.QueryResultRow>(
  db: pg.Pool | pg.PoolClient,
  query: PageQuery,
  args: PageArgs,
): Promise<Page<T>> {
  const first = Math.min(Math.max(args.first ?? DEFAULT_PAGE_SIZE, 0), MAX_PAGE_SIZE);
  const desc = query.order === 'desc';
  const filter = query.where.join(' AND ');
  const total = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (${query.select} WHERE ${filter}) x`,
    [...query.params],
  );
  const params = [...query.params];
  let where = filter;
  const after = decodeCursor(args.after);
  if (after) {
    params.push(after);
    where += ` AND t.id ${desc ? '<' : '>'} $${params.length}`;
  }
  params.push(first + 1);
  const { rows } = await db.query<T>(
    `${query.select} WHERE ${where} ORDER BY t.id ${desc ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
    params,
  );
  return { items: rows.slice(0, first), hasNextPage: rows.length > first, totalCount: total.rows[0]?.n ?? 0 };
}
