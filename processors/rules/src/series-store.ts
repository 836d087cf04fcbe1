import type pg from 'pg';
import {
  initialSeriesState,
  type MeasuredValue,
  type Reading,
  type Rule,
  type SeriesState,
} from './domain/types.ts';

/** A series: one rule over one measurement of one thing. */
export interface SeriesKey {
  ruleId: string;
  thingId: string;
  name: string;
}

export const seriesKey = (k: SeriesKey) => `${k.ruleId}\u0000${k.thingId}\u0000${k.name}`;

const readingKey = (thingId: string, name: string) => `${thingId}\u0000${name}`;

/**
 * A series as loaded: its state, its timer (ms, or none), and what its own row held, to write
 * the row again only when that changed.
 */
export interface StoredSeries {
  state: SeriesState;
  timer: number | null;
  /** Its own row's state, as JSON (what is compared and written) and as read. */
  own: string;
  ownState: OwnState;
  /** The thing's measurement's newest reading, as read. */
  reading: LastReading | undefined;
}

/** Which of the reading's fields a series keeps in its own row rather than its thing's. */
function ownKeeps(rule: Rule): { lastTime: boolean; lastValue: boolean } {
  const noData = rule.def.condition.op === 'no_data';
  const aggregated = (rule.def.condition.aggregate ?? 'value') !== 'value';
  return { lastTime: noData, lastValue: noData || aggregated };
}

/** Whether a field of the state is in the series' own row: the channel never is. */
function isOwn(keeps: ReturnType<typeof ownKeeps>, field: keyof SeriesState): boolean {
  if (field === 'channelId') return false;
  if (field === 'lastTime') return keeps.lastTime;
  if (field === 'lastValue') return keeps.lastValue;
  return true;
}

/** The part of a series' state its own row holds. */
type OwnState = Partial<SeriesState>;

/**
 * What a series keeps in its own `rule_series` row. The rest of its state is its thing's
 * measurement's, kept once in `rule_readings` for every rule over it: the newest reading's time
 * (the event-time watermark), channel and value. So a reading that changes nothing but those
 * (a threshold far from being crossed, the common case) writes one row per thing and
 * measurement, not one per rule. A `no_data` rule keeps its own last time (its silence is
 * counted from the readings it saw), and a window rule its own compared value (an aggregate).
 */
function ownPart(rule: Rule, s: SeriesState): { own: string; ownState: OwnState } {
  const keeps = ownKeeps(rule);
  const ownState = Object.fromEntries(
    Object.entries(s).filter(([field]) => isOwn(keeps, field as keyof SeriesState)),
  ) as OwnState;
  return { own: JSON.stringify(ownState), ownState };
}

/**
 * Whether `after` keeps the same own row as `before` (field by field: a reading that moves
 * only the shared part, the common case, is not serialised to find that out).
 */
function sameOwnPart(rule: Rule, before: SeriesState, after: SeriesState): boolean {
  const keeps = ownKeeps(rule);
  for (const field of Object.keys(after) as (keyof SeriesState)[]) {
    if (!isOwn(keeps, field)) continue;
    const [a, b] = [before[field], after[field]];
    if (a === b) continue;
    if (Array.isArray(a) && Array.isArray(b) && a.length === 0 && b.length === 0) continue;
    return false;
  }
  return true;
}

interface LastReading {
  last_time: number;
  channel_id: string | null;
  value: MeasuredValue | null;
}

function merged(rule: Rule, own: OwnState | undefined, reading: LastReading | undefined): SeriesState {
  const state: SeriesState = { ...initialSeriesState(), ...own };
  if (!reading) return state;
  const keeps = ownKeeps(rule);
  const readingTime = Number(reading.last_time);
  state.channelId = reading.channel_id;
  // a row written before rule_readings existed may hold a newer time than the shared one
  if (!keeps.lastTime) state.lastTime = Math.max(state.lastTime ?? readingTime, readingTime);
  if (!keeps.lastValue) state.lastValue = reading.value;
  return state;
}

/** Most series (and readings) the evaluator holds in memory; the least recently used go first. */
export const SERIES_CACHE_SIZE = 200_000;

interface CachedSeries {
  own: string;
  /** `own` as an object: shared, never changed (a state is always a new object). */
  ownState: OwnState;
  timer: number | null;
}

/** What a transaction read and wrote, for the cache once it committed. */
export interface SeriesChanges {
  series: Map<string, CachedSeries>;
  readings: Map<string, LastReading | null>;
}

const touch = <V>(map: Map<string, V>, key: string, value: V, capacity: number) => {
  map.delete(key);
  map.set(key, value);
  if (map.size > capacity) map.delete(map.keys().next().value!);
};

/**
 * What the evaluator last committed of the series and readings it touched, so that a batch
 * reads from Postgres only what is not here. The evaluator is the only writer of both tables
 * but for two cases: a firing timer changes its series in its own transaction (a series with a
 * timer is therefore always read again, its timer row locked first, and no other can gain a
 * timer but by the evaluator), and a rule's definition changing resets its series. So the
 * cache holds while the checkpoint and the rules are what this instance left them, and is
 * dropped otherwise: another instance evaluated meanwhile (a takeover), a rule changed, a
 * transaction failed.
 */
export class SeriesCache {
  readonly #series = new Map<string, CachedSeries>();
  /** By (thing, measurement); `null`: known to have none yet. */
  readonly #readings = new Map<string, LastReading | null>();
  readonly #capacity: number;
  /** The checkpoint's last sequence after this instance's last commit; unknown: nothing held. */
  #lastSeq: number | undefined;
  #rules: string | undefined;

  constructor(capacity = SERIES_CACHE_SIZE) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#series.size;
  }

  /** Inside the evaluator's transaction, its lock held: drops everything unless still valid. */
  validate(lastSeq: number, rules: string): void {
    if (lastSeq !== this.#lastSeq || rules !== this.#rules) this.clear();
    this.#rules = rules;
  }

  /** After the commit: what the transaction read and wrote, and the checkpoint it left. */
  committed(lastSeq: number, changes: SeriesChanges | undefined): void {
    for (const [key, value] of changes?.series ?? []) touch(this.#series, key, value, this.#capacity);
    for (const [key, value] of changes?.readings ?? []) touch(this.#readings, key, value, this.#capacity);
    this.#lastSeq = lastSeq;
  }

  clear(): void {
    this.#series.clear();
    this.#readings.clear();
    this.#lastSeq = undefined;
  }

  /** The series' own row and its reading, when both are held and the series has no timer. */
  get(
    key: string,
    pair: string,
  ): { own: string; ownState: OwnState; reading: LastReading | undefined } | undefined {
    const series = this.#series.get(key);
    if (!series || series.timer !== null) return undefined;
    const reading = this.#readings.get(pair);
    if (reading === undefined && !this.#readings.has(pair)) return undefined;
    return { own: series.own, ownState: series.ownState, reading: reading ?? undefined };
  }
}

/**
 * The evaluator's state and timers in Postgres, read in the caller's transaction (the
 * processor's checkpoint transaction, or a timer's). The series' timer rows are locked first:
 * a timer firing for one of them and the evaluator deciding on it take turns.
 */
export async function loadSeries(
  db: pg.PoolClient,
  wanted: ReadonlyMap<string, SeriesKey & { rule: Rule }>,
  cache?: SeriesCache,
): Promise<Map<string, StoredSeries>> {
  const out = new Map<string, StoredSeries>();
  const keys: (SeriesKey & { rule: Rule })[] = [];
  for (const [key, k] of wanted) {
    const hit = cache?.get(key, readingKey(k.thingId, k.name));
    if (!hit) {
      keys.push(k);
      continue;
    }
    const state = merged(k.rule, hit.ownState, hit.reading);
    out.set(key, { state, timer: null, own: hit.own, ownState: hit.ownState, reading: hit.reading });
  }
  if (keys.length === 0) return out;
  const recordset = JSON.stringify(keys.map(({ ruleId, thingId, name }) => ({ ruleId, thingId, name })));
  const timers = await db.query<{ rule_id: string; thing_id: string; name: string; due_at: Date }>({
    name: 'rules-lock-timers',
    text: `SELECT t.rule_id, t.thing_id, t.name, t.due_at FROM rule_timers t
     JOIN jsonb_to_recordset($1::jsonb) AS k("ruleId" uuid, "thingId" uuid, name text)
       ON t.rule_id = k."ruleId" AND t.thing_id = k."thingId" AND t.name = k.name
     ORDER BY t.rule_id, t.thing_id, t.name
     FOR UPDATE OF t`,
    values: [recordset],
  });
  const series = await db.query<{
    rule_id: string;
    thing_id: string;
    name: string;
    state: Partial<SeriesState>;
  }>({
    name: 'rules-load-series',
    text: `SELECT s.rule_id, s.thing_id, s.name, s.state FROM rule_series s
     JOIN jsonb_to_recordset($1::jsonb) AS k("ruleId" uuid, "thingId" uuid, name text)
       ON s.rule_id = k."ruleId" AND s.thing_id = k."thingId" AND s.name = k.name`,
    values: [recordset],
  });
  const pairs = new Map(
    keys.map((k) => [readingKey(k.thingId, k.name), { thingId: k.thingId, name: k.name }]),
  );
  const readings = await db.query<LastReading & { thing_id: string; name: string }>({
    name: 'rules-load-readings',
    text: `SELECT r.thing_id, r.name, r.last_time, r.channel_id, r.value FROM rule_readings r
     JOIN jsonb_to_recordset($1::jsonb) AS k("thingId" uuid, name text)
       ON r.thing_id = k."thingId" AND r.name = k.name`,
    values: [JSON.stringify([...pairs.values()])],
  });
  const timerOf = new Map(
    timers.rows.map((r) => [
      seriesKey({ ruleId: r.rule_id, thingId: r.thing_id, name: r.name }),
      r.due_at.getTime(),
    ]),
  );
  const ownOf = new Map(
    series.rows.map((r) => [seriesKey({ ruleId: r.rule_id, thingId: r.thing_id, name: r.name }), r.state]),
  );
  const readingOf = new Map<string, LastReading>(
    readings.rows.map((r) => [
      readingKey(r.thing_id, r.name),
      { last_time: r.last_time, channel_id: r.channel_id, value: r.value },
    ]),
  );
  for (const k of keys) {
    const key = seriesKey(k);
    const reading = readingOf.get(readingKey(k.thingId, k.name));
    const state = merged(k.rule, ownOf.get(key), reading);
    out.set(key, { state, timer: timerOf.get(key) ?? null, ...ownPart(k.rule, state), reading });
  }
  return out;
}

export interface SeriesWrite extends SeriesKey {
  rule: Rule;
  state: SeriesState;
  /** The series' timer afterwards (ms), or none. */
  timer: number | null;
  /** The series as it was loaded. */
  before: StoredSeries;
}

/**
 * Writes what changed: each series' own row and timer when they differ from what was loaded,
 * and the newest of `readings` per thing and measurement (never moving one back).
 */
export async function saveSeries(
  db: pg.PoolClient,
  writes: readonly SeriesWrite[],
  readings: readonly (Reading & { tenantId: string })[] = [],
): Promise<SeriesChanges> {
  const changes: SeriesChanges = { series: new Map(), readings: new Map() };
  const rows: { ruleId: string; thingId: string; name: string; tenantId: string; state: unknown }[] = [];
  const timers: { ruleId: string; thingId: string; name: string; due: string | null }[] = [];
  for (const w of writes) {
    const unchanged = sameOwnPart(w.rule, w.before.state, w.state);
    const { own, ownState } = unchanged ? w.before : ownPart(w.rule, w.state);
    changes.series.set(seriesKey(w), { own, ownState, timer: w.timer });
    changes.readings.set(readingKey(w.thingId, w.name), w.before.reading ?? null);
    if (own !== w.before.own) {
      rows.push({
        ruleId: w.ruleId,
        thingId: w.thingId,
        name: w.name,
        tenantId: w.rule.tenantId,
        state: ownState,
      });
    }
    if (w.timer !== w.before.timer) {
      timers.push({
        ruleId: w.ruleId,
        thingId: w.thingId,
        name: w.name,
        due: w.timer === null ? null : new Date(w.timer).toISOString(),
      });
    }
  }
  const newest = new Map<string, Reading & { tenantId: string }>();
  for (const r of readings) {
    const key = readingKey(r.thingId, r.name);
    const seen = newest.get(key);
    if (!seen || r.timeMs >= seen.timeMs) newest.set(key, r);
  }
  for (const [key, r] of newest) {
    const before = changes.readings.get(key);
    if (!before || before.last_time <= r.timeMs) {
      changes.readings.set(key, { last_time: r.timeMs, channel_id: r.channelId, value: r.value });
    }
  }
  if (newest.size > 0) {
    await db.query({
      name: 'rules-save-readings',
      text: `INSERT INTO rule_readings AS r (thing_id, name, tenant_id, last_time, channel_id, value)
       SELECT "thingId", name, "tenantId", "timeMs", "channelId", value
       FROM jsonb_to_recordset($1::jsonb)
         AS k("thingId" uuid, name text, "tenantId" uuid, "timeMs" double precision, "channelId" text, value jsonb)
       ON CONFLICT (thing_id, name) DO UPDATE
         SET last_time = EXCLUDED.last_time, channel_id = EXCLUDED.channel_id, value = EXCLUDED.value
         WHERE r.last_time <= EXCLUDED.last_time`,
      values: [
        JSON.stringify(
          [...newest.values()].map((r) => ({
            thingId: r.thingId,
            name: r.name,
            tenantId: r.tenantId,
            timeMs: r.timeMs,
            channelId: r.channelId,
            value: r.value,
          })),
        ),
      ],
    });
  }
  if (rows.length > 0) {
    await db.query({
      name: 'rules-save-series',
      text: `INSERT INTO rule_series (rule_id, thing_id, name, tenant_id, state)
       SELECT "ruleId", "thingId", name, "tenantId", state
       FROM jsonb_to_recordset($1::jsonb) AS k("ruleId" uuid, "thingId" uuid, name text, "tenantId" uuid, state jsonb)
       ON CONFLICT (rule_id, thing_id, name) DO UPDATE SET state = EXCLUDED.state`,
      values: [JSON.stringify(rows)],
    });
  }
  if (timers.some((t) => t.due === null)) {
    await db.query({
      name: 'rules-delete-timers',
      text: `DELETE FROM rule_timers t USING jsonb_to_recordset($1::jsonb) AS k("ruleId" uuid, "thingId" uuid, name text)
       WHERE t.rule_id = k."ruleId" AND t.thing_id = k."thingId" AND t.name = k.name`,
      values: [JSON.stringify(timers.filter((t) => t.due === null))],
    });
  }
  if (timers.some((t) => t.due !== null)) {
    await db.query({
      name: 'rules-save-timers',
      text: `INSERT INTO rule_timers (rule_id, thing_id, name, due_at)
       SELECT "ruleId", "thingId", name, due
       FROM jsonb_to_recordset($1::jsonb) AS k("ruleId" uuid, "thingId" uuid, name text, due timestamptz)
       ON CONFLICT (rule_id, thing_id, name) DO UPDATE SET due_at = EXCLUDED.due_at`,
      values: [JSON.stringify(timers.filter((t) => t.due !== null))],
    });
  }
  return changes;
}
