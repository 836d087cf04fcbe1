import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { subscribe } from '../api/live.ts';
import { authorizedFetch, gql } from '../api/session.ts';
import type { TelemetryPoint, TelemetrySeries } from '../api/types.ts';
import { historyWindow, RANGES, type RangeKey } from '../history-range.ts';
import { ErrorText, formatTime, ScrollTable, useAction, useAsync } from '../ui.tsx';
import { Chart, formatValue, type Series } from './chart.tsx';
import { ThingTabs } from './thing.tsx';

/** How often live charts are drawn again; 0: at every point. */
const REFRESH = {
  0: 'Every point',
  1000: 'Every second',
  5000: 'Every 5 seconds',
  30000: 'Every 30 seconds',
  [-1]: 'Paused',
} as const;
/** A live chart keeps this many points of each sensor. */
const LIVE_POINTS = 600;
const AGGREGATES = ['AVG', 'MIN', 'MAX', 'SUM', 'COUNT', 'FIRST', 'LAST'] as const;
type Aggregate = (typeof AGGREGATES)[number];

type View =
  | { mode: 'live' }
  | { mode: 'history'; range: RangeKey; aggregate: Aggregate; from: string; to: string; every: string };

export function DataPage({ thingId }: { thingId: string }) {
  const thing = useAsync(
    () =>
      gql<{ thing: { id: string; name: string } | null }>(
        'query Name($id: ID!) { thing(id: $id) { id name } }',
        { id: thingId },
      ),
    [thingId],
  );
  const [mode, setMode] = useState<'live' | 'history'>('live');
  const [range, setRange] = useState<RangeKey>('1h');
  const [aggregate, setAggregate] = useState<Aggregate>('AVG');
  const [refreshMs, setRefreshMs] = useState<number>(0);
  const [historyAt, setHistoryAt] = useState(() => Date.now());
  const [livePoints, setLivePoints] = useState<ReadonlyMap<string, TelemetryPoint>>(new Map());
  const view: View = useMemo(
    () => (mode === 'live' ? { mode } : { mode, range, aggregate, ...historyWindow(range, historyAt) }),
    [mode, range, aggregate, historyAt],
  );
  const name = thing.data?.thing?.name;
  return (
    <section>
      <h1>{name ? `Data of ${name}` : 'Data'}</h1>
      <ThingTabs id={thingId} current="data" />
      <ErrorText error={thing.error} />
      <Latest thingId={thingId} live={livePoints} />
      <fieldset class="toolbar">
        <legend>View</legend>
        <label>
          <input type="radio" name="mode" checked={mode === 'live'} onChange={() => setMode('live')} /> Live
        </label>
        <label>
          <input
            type="radio"
            name="mode"
            checked={mode === 'history'}
            onChange={() => {
              setHistoryAt(Date.now());
              setMode('history');
            }}
          />{' '}
          History
        </label>
        {mode === 'live' ? (
          <label>
            Refresh
            <select value={String(refreshMs)} onChange={(e) => setRefreshMs(Number(e.currentTarget.value))}>
              {Object.entries(REFRESH).map(([ms, label]) => (
                <option key={ms} value={ms}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <>
            <label>
              Range
              <select
                data-testid="range"
                value={range}
                onChange={(e) => {
                  setHistoryAt(Date.now());
                  setRange(e.currentTarget.value as RangeKey);
                }}
              >
                {Object.entries(RANGES).map(([key, r]) => (
                  <option key={key} value={key}>
                    {r.label}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Aggregate
              <select value={aggregate} onChange={(e) => setAggregate(e.currentTarget.value as Aggregate)}>
                {AGGREGATES.map((a) => (
                  <option key={a} value={a}>
                    {a.toLowerCase()}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" onClick={() => setHistoryAt(Date.now())}>
              Reload
            </button>
          </>
        )}
      </fieldset>
      {view.mode === 'live' ? (
        <LiveCharts thingId={thingId} refreshMs={refreshMs} onLatest={setLivePoints} />
      ) : (
        <HistoryCharts thingId={thingId} view={view} />
      )}
    </section>
  );
}

/** The latest value of each sensor: the API's, replaced by newer live points as they arrive. */
function Latest({ thingId, live }: { thingId: string; live: ReadonlyMap<string, TelemetryPoint> }) {
  const latest = useAsync(
    () =>
      gql<{ latest: TelemetryPoint[] }>(
        'query Latest($t: ID!) { latest(thingId: $t) { time name value unit stringValue boolValue } }',
        { t: thingId },
      ),
    [thingId],
  );
  const merged = new Map((latest.data?.latest ?? []).map((p) => [p.name, p]));
  for (const [name, p] of live) {
    const known = merged.get(name);
    if (!known || Date.parse(known.time) <= Date.parse(p.time)) merged.set(name, p);
  }
  const rows = [...merged.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <section class="panel" aria-labelledby="latest-title">
      <h2 id="latest-title">Latest values</h2>
      <ErrorText error={latest.error} />
      {latest.data && rows.length === 0 && <p>Nothing received yet.</p>}
      {latest.data && rows.length > 0 && (
        <ScrollTable label="Latest values">
          <table data-testid="latest">
            <thead>
              <tr>
                <th scope="col">Sensor</th>
                <th scope="col">Value</th>
                <th scope="col">At</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.name}>
                  <td>{p.name}</td>
                  <td>
                    {p.value !== null
                      ? formatValue(p.value, p.unit)
                      : (p.stringValue ?? String(p.boolValue ?? '—'))}
                  </td>
                  <td>{formatTime(p.time)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
      <button type="button" onClick={latest.reload}>
        Refresh latest values
      </button>
    </section>
  );
}

/** Points of a live view by sensor, grown in place; `version` counts the changes drawn. */
function LiveCharts({
  thingId,
  refreshMs,
  onLatest,
}: {
  thingId: string;
  refreshMs: number;
  /** The newest live point of each sensor, as drawn. */
  onLatest(points: ReadonlyMap<string, TelemetryPoint>): void;
}) {
  const newest = useRef(new Map<string, TelemetryPoint>());
  const buffers = useRef(new Map<string, Series>());
  const started = useRef(new Date().toISOString());
  const pending = useRef(false);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>();
  const refresh = useRef(refreshMs);
  refresh.current = refreshMs;
  useEffect(() => {
    buffers.current = new Map();
    newest.current = new Map();
    started.current = new Date().toISOString();
    let frame = 0;
    const stop = subscribe<{ telemetry: TelemetryPoint }>(
      'subscription Live($t: ID!) { telemetry(thingId: $t) { time name value unit } }',
      { t: thingId },
      {
        next: ({ telemetry: p }) => {
          newest.current.set(p.name, p);
          if (p.value === null) return; // only numbers are plotted
          let s = buffers.current.get(p.name);
          if (!s) {
            s = { name: p.name, unit: p.unit, times: [], values: [] };
            buffers.current.set(p.name, s);
          }
          s.times.push(Date.parse(p.time) / 1000);
          s.values.push(p.value);
          if (s.times.length > LIVE_POINTS) {
            s.times.splice(0, s.times.length - LIVE_POINTS);
            s.values.splice(0, s.values.length - LIVE_POINTS);
          }
          pending.current = true;
          if (refresh.current === 0 && !frame)
            frame = requestAnimationFrame(() => {
              frame = 0;
              pending.current = false;
              setVersion((v) => v + 1);
            });
        },
        error: setError,
      },
    );
    return () => {
      stop();
      cancelAnimationFrame(frame);
    };
  }, [thingId]);
  useEffect(() => {
    if (refreshMs <= 0) return;
    const timer = setInterval(() => {
      if (!pending.current) return;
      pending.current = false;
      setVersion((v) => v + 1);
    }, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);
  // drawn again: the latest values too
  useEffect(() => onLatest(new Map(newest.current)), [version]);
  const series = [...buffers.current.values()].sort((a, b) => a.name.localeCompare(b.name));
  const csv = () => {
    const last = Math.max(0, ...series.map((s) => s.times[s.times.length - 1] ?? 0));
    const to = new Date(Math.floor(last * 1000) + 1).toISOString();
    return { thingId, from: started.current, to };
  };
  return (
    <section aria-labelledby="charts-title">
      <h2 id="charts-title">Live</h2>
      <ErrorText error={error} />
      <p class="hint" role="status">
        {series.length === 0
          ? 'Waiting for the next value…'
          : `Since ${formatTime(started.current)}, ${refreshMs < 0 ? 'paused' : 'live'}.`}
      </p>
      {series.length > 0 && <CsvDownload params={csv} name={`live-${thingId}`} />}
      <div class="charts">
        {series.map((s) => (
          <Chart key={s.name} series={s} version={version} label="live" />
        ))}
      </div>
    </section>
  );
}

type HistoryView = Extract<View, { mode: 'history' }>;

function HistoryCharts({ thingId, view }: { thingId: string; view: HistoryView }) {
  const answer = useAsync(
    () =>
      gql<{ telemetrySeries: TelemetrySeries[] }>(
        `query History($t: ID!, $from: DateTime, $to: DateTime, $every: String, $agg: Aggregate) {
          telemetrySeries(thingId: $t, from: $from, to: $to, every: $every, aggregate: $agg) { name times values }
        }`,
        { t: thingId, from: view.from, to: view.to, every: view.every, agg: view.aggregate },
      ),
    [thingId, view.from, view.to, view.every, view.aggregate],
  );
  // one series per name, times in epoch milliseconds (the chart takes seconds), in the live charts' order
  const series = useMemo(
    () =>
      (answer.data?.telemetrySeries ?? [])
        .map(
          (s): Series => ({
            name: s.name,
            unit: null,
            times: s.times.map((ms) => ms / 1000),
            values: s.values,
          }),
        )
        .sort((a, b) => a.name.localeCompare(b.name)),
    [answer.data],
  );
  const label = `${RANGES[view.range].label.toLowerCase()}, ${view.aggregate.toLowerCase()} per ${view.every}`;
  return (
    <section
      aria-labelledby="charts-title"
      aria-busy={answer.loading}
      data-testid="history"
      data-from={view.from}
      data-to={view.to}
      data-every={view.every}
      data-aggregate={view.aggregate}
      data-loaded={answer.loading ? undefined : 'true'}
    >
      <h2 id="charts-title">History</h2>
      <ErrorText error={answer.error} />
      <p class="hint" role="status">
        {answer.loading ? 'Loading…' : `${formatTime(view.from)} to ${formatTime(view.to)}: ${label}.`}
      </p>
      {answer.data && series.length === 0 && <p>No values in this range.</p>}
      {series.length > 0 && (
        <CsvDownload
          params={() => ({
            thingId,
            from: view.from,
            to: view.to,
            every: view.every,
            aggregate: view.aggregate,
          })}
          name={`history-${thingId}-${view.range}-${view.aggregate.toLowerCase()}`}
        />
      )}
      <div class="charts">
        {series.map((s) => (
          <Chart
            key={s.name}
            series={s}
            version={answer.data ? 1 : 0}
            label={label}
            window={[Date.parse(view.from) / 1000, Date.parse(view.to) / 1000]}
          />
        ))}
      </div>
    </section>
  );
}

/** The API's CSV export of the same query as the charts on screen, saved as a file. */
function CsvDownload({ params, name }: { params: () => Record<string, string>; name: string }) {
  const download = useAction(async () => {
    const res = await authorizedFetch(`/export/telemetry.csv?${new URLSearchParams(params())}`);
    if (!res.ok) {
      const problem = (await res.json().catch(() => ({}))) as { detail?: string };
      throw new Error(problem.detail ?? `the export answered ${res.status}`);
    }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `${name}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
  return (
    <p>
      <button type="button" onClick={() => void download.run()} disabled={download.busy}>
        Download CSV of what is shown
      </button>
      <ErrorText error={download.error} />
    </p>
  );
}
