import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AGGREGATES, type Aggregate, type PointRow, parseEvery } from '@telly/telemetry-pg';
import type { Authenticator } from './auth/authenticate.ts';
import { atLeast } from './auth/roles.ts';
import { sendProblem } from './bootstrap-route.ts';
import { isApiError, toApiError } from './errors.ts';
import type { TelemetryService } from './services/telemetry-service.ts';

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

/** RFC 4180 field. */
function field(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const line = (row: PointRow) => `${COLUMNS.map((c) => field(row[c])).join(',')}\r\n`;

/**
 * `GET /export/telemetry.csv?thingId|channelId=…[&name&from&to&every&aggregate]`: the same
 * filters and authorization as the `telemetry` query (Bearer token, viewer or above), streamed.
 */
export async function handleExport(
  authenticator: Authenticator,
  telemetry: TelemetryService,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== 'GET') {
    res.setHeader('allow', 'GET');
    return sendProblem(res, 405, 'Method Not Allowed', 'the export is fetched with GET');
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const q = url.searchParams;
  try {
    const principal = await authenticator.authenticate(req.headers.authorization);
    if (!principal) return sendProblem(res, 401, 'Unauthorized', 'send Authorization: Bearer <token>');
    if (!atLeast(principal.role, 'viewer'))
      return sendProblem(res, 403, 'Forbidden', 'needs the viewer role');
    const date = (name: string) => {
      const raw = q.get(name);
      if (raw === null) return undefined;
      const d = new Date(raw);
      if (Number.isNaN(d.getTime())) throw new Error(`${name}: not an RFC 3339 date-time`);
      return d;
    };
    let filter: ReturnType<TelemetryService['filter']>;
    let every: number | undefined;
    let aggregate: Aggregate | undefined;
    try {
      filter = telemetry.filter(principal, {
        thingId: q.get('thingId'),
        channelId: q.get('channelId'),
        name: q.get('name'),
        from: date('from'),
        to: date('to'),
      });
      const rawAggregate = q.get('aggregate');
      if (rawAggregate !== null && !(AGGREGATES as readonly string[]).includes(rawAggregate)) {
        throw new Error(`aggregate: one of ${AGGREGATES.join(', ')}`);
      }
      aggregate = (rawAggregate as Aggregate | null) ?? undefined;
      every = q.get('every') === null ? undefined : parseEvery(q.get('every') ?? '');
      if (q.get('every') !== null && every === undefined)
        throw new Error('every: a duration such as "1m", "1h"');
    } catch (err) {
      return sendProblem(res, 400, 'Bad Request', err instanceof Error ? err.message : String(err));
    }
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="telemetry.csv"',
      'cache-control': 'no-store',
    });
    res.write(`${COLUMNS.join(',')}\r\n`);
    if (filter) {
      const rows: AsyncIterable<PointRow> | PointRow[] =
        aggregate || every
          ? (await telemetry.queries.aggregate(filter, aggregate ?? 'AVG', every ?? 3_600)).rows
          : telemetry.queries.streamPoints(filter);
      for await (const row of rows) {
        if (!res.write(line(row))) await once(res, 'drain'); // a slow client slows the query, not memory
      }
    }
    res.end();
  } catch (err) {
    const mapped = toApiError(err);
    if (res.headersSent) return void res.destroy(err instanceof Error ? err : undefined);
    if (isApiError(mapped)) return sendProblem(res, mapped.status, mapped.code, mapped.message);
    throw err;
  }
}
