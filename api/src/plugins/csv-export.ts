import type { Logger } from '@telly/runtime';
import { tellyIdOrNone } from '@telly/schemas';
import { AGGREGATES, type Aggregate, type PointRow } from '@telly/telemetry-pg';
import type { FetchAPI, Plugin } from 'graphql-yoga';
import type { Authenticator } from '../auth/authenticate.ts';
import type { Principal } from '../auth/principal.ts';
import { atLeast } from '../auth/roles.ts';
import { dateTimeRefusal, parseDateTime } from '../date-time.ts';
import { isApiError, toApiError } from '../errors.ts';
import type { TelemetryRead, TelemetryService } from '../services/telemetry-service.ts';
import { problem } from './problem.ts';
import { useRoute } from './route.ts';

export const EXPORT_PATH = '/export/telemetry.csv';
const COLUMNS = [
  'time',
  'thing_id',
  'channel_id',
  'subtopic',
  'name',
  'unit',
  'value',
  'string_value',
  'bool_value',
  'data_value',
  'sum',
] as const;

/**
 * `GET /export/telemetry.csv?thingId|channelId=…[&name&from&to&every&aggregate&timeZone]`: the same
 * filters and authorization as the `telemetry` query (Bearer token, viewer or above), streamed.
 */
export function useCsvExport(
  authenticator: Authenticator,
  telemetry: TelemetryService,
  logger: Logger,
): Plugin {
  return useRoute(
    {
      name: 'export',
      match: (url) => (url.pathname === EXPORT_PATH ? url.searchParams : undefined),
      async handle({ request, match: q, fetchAPI, serverContext }) {
        if (request.method !== 'GET') {
          return problem(fetchAPI, 405, 'Method Not Allowed', 'the export is fetched with GET', {
            allow: 'GET',
          });
        }
        try {
          const principal = await authenticator.authenticate(
            request.headers.get('authorization') ?? undefined,
          );
          if (!principal) return problem(fetchAPI, 401, 'Unauthorized', 'send Authorization: Bearer <token>');
          if (!atLeast(principal.role, 'viewer'))
            return problem(fetchAPI, 403, 'Forbidden', 'needs the viewer role');
          let wanted: TelemetryRead;
          try {
            wanted = exportRequest(telemetry, principal, q);
          } catch (err) {
            return problem(fetchAPI, 400, 'Bad Request', err instanceof Error ? err.message : String(err));
          }
          const rows = await telemetry.stream(wanted);
          return new fetchAPI.Response(
            csvStream(fetchAPI, rows, (err) => failed(err, serverContext)),
            {
              status: 200,
              headers: {
                'content-type': 'text/csv; charset=utf-8',
                'content-disposition': 'attachment; filename="telemetry.csv"',
                'cache-control': 'no-store',
              },
            },
          );
        } catch (err) {
          const mapped = toApiError(err);
          if (isApiError(mapped)) return problem(fetchAPI, mapped.status, mapped.code, mapped.message);
          throw err;
        }
      },
    },
    logger,
  );

  /**
   * A failure once rows are streaming cannot become a status any more: the transfer is cut off
   * (the connection destroyed), so the client cannot take a partial file for the whole.
   */
  function failed(err: unknown, serverContext: Record<string, unknown>): boolean {
    logger.error({ err }, 'export failed while streaming');
    const res = serverContext.res as { destroy?: (err?: Error) => void } | undefined;
    if (!res?.destroy) return false;
    res.destroy();
    return true;
  }
}

/**
 * The query string read like the `telemetry` query's arguments (`last` and `limit` aside: an
 * export is the whole range). @throws on a bad parameter
 */
function exportRequest(telemetry: TelemetryService, principal: Principal, q: URLSearchParams): TelemetryRead {
  const date = (name: string) => {
    const raw = q.get(name);
    if (raw === null) return undefined;
    const d = parseDateTime(raw);
    if (!d) throw new Error(dateTimeRefusal(name, raw));
    return d;
  };
  const id = (name: string) => {
    const raw = q.get(name);
    return raw === null ? null : tellyIdOrNone(raw);
  };
  const rawAggregate = q.get('aggregate');
  if (rawAggregate !== null && !(AGGREGATES as readonly string[]).includes(rawAggregate)) {
    throw new Error(`aggregate: one of ${AGGREGATES.join(', ')}`);
  }
  return telemetry.read(principal, {
    thingId: id('thingId'),
    channelId: id('channelId'),
    name: q.get('name'),
    from: date('from'),
    to: date('to'),
    every: q.get('every'),
    aggregate: rawAggregate as Aggregate | null,
    timeZone: q.get('timeZone'),
  });
}

/** What a spreadsheet reads as the start of a formula (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * RFC 4180 field. A text cell that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`,
 * tab, CR first) gets a leading `'` and quotes, so it shows as the text it is; numbers, booleans
 * and times are never text here, so a negative value stays a number.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = value instanceof Date ? value.toISOString() : String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n']/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const line = (row: PointRow) => `${COLUMNS.map((c) => csvField(row[c])).join(',')}\r\n`;

async function* csvLines(rows: AsyncIterable<PointRow> | Iterable<PointRow>): AsyncGenerator<string> {
  yield `${COLUMNS.join(',')}\r\n`;
  for await (const row of rows) yield line(row);
}

/**
 * The CSV as a pull stream: a row is read only when the client took the previous one, so a slow
 * client slows the query, not memory. `onError` cuts the transfer off when it can (true);
 * otherwise the stream errors.
 */
function csvStream(
  fetchAPI: FetchAPI,
  rows: AsyncIterable<PointRow> | Iterable<PointRow>,
  onError: (err: unknown) => boolean,
): ReadableStream<Uint8Array> {
  const lines = csvLines(rows);
  const encoder = new fetchAPI.TextEncoder();
  return new fetchAPI.ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await lines.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (err) {
        if (onError(err)) controller.close();
        else controller.error(err);
      }
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}
