import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';

export interface Series {
  name: string;
  unit: string | null;
  /** Seconds since the epoch, ascending. */
  times: number[];
  values: (number | null)[];
}

let library: Promise<typeof uPlot> | undefined;
/** uPlot, loaded with the first chart (not on the first page). */
export const loadUplot = () => {
  library ??= import('uplot').then((m) => m.default);
  return library;
};

const valueFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
export const formatValue = (v: number | null | undefined, unit?: string | null) =>
  v === null || v === undefined ? '—' : `${valueFormat.format(v)}${unit ? ` ${unit}` : ''}`;

/**
 * One sensor's line chart. `version` changes when the data did (the arrays may be the same,
 * grown in place): that is when it is drawn again. The figure carries what it shows as data
 * attributes, and a caption in words for those who cannot see the canvas.
 */
export function Chart({
  series,
  version,
  label,
  window,
}: {
  series: Series;
  version: number;
  label: string;
  /** The time shown, in seconds: the query's range; by default the data's, at least a minute. */
  window?: [number, number] | undefined;
}) {
  const range = useRef(window);
  range.current = window;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const figure = useRef<HTMLElement>(null);
  useEffect(() => {
    let live = true;
    let observer: ResizeObserver | undefined;
    void loadUplot().then((UPlot) => {
      if (!live || !box.current) return;
      const width = () => Math.max(240, box.current?.clientWidth ?? 600);
      plot.current = new UPlot(
        {
          width: width(),
          height: 220,
          series: [
            {},
            {
              label: series.name,
              stroke: 'hsl(210 80% 45%)',
              width: 2,
              points: { show: series.times.length < 60 },
            },
          ],
          scales: { x: { time: true, range: (_u, min, max) => range.current ?? widen(min, max) } },
          axes: [{}, { values: (_u, ticks) => ticks.map((t) => formatValue(t)) }],
          legend: { show: false },
          cursor: { drag: { x: true, y: false } },
        },
        [series.times, series.values],
        box.current,
      );
      drawn(figure.current, series);
      observer = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 220 }));
      observer.observe(box.current);
    });
    return () => {
      live = false;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [series.name]);
  useEffect(() => {
    if (!plot.current) return;
    plot.current.setData([series.times, series.values]);
    drawn(figure.current, series);
  }, [version, series]);
  const n = series.times.length;
  const last = n ? series.values[n - 1] : undefined;
  const lastTime = n ? new Date(series.times[n - 1]! * 1000) : undefined;
  return (
    <figure class="chart" ref={figure} data-testid={`chart-${series.name}`} data-points={n}>
      <figcaption>
        <strong>{series.name}</strong>
        {` · ${label} · `}
        {n === 0
          ? 'no data'
          : `${n} points, last ${formatValue(last, series.unit)} at ${lastTime!.toLocaleTimeString()}`}
      </figcaption>
      <div class="plot" ref={box} role="img" aria-label={`Chart of ${series.name}, ${label}`} />
    </figure>
  );
}

/** The data's own time range, at least a minute wide (one point has no width). */
const widen = (min: number, max: number): [number, number] =>
  max - min >= 60 ? [min, max] : [max - 60, max];

/** Records on the figure what the canvas now shows, and when it was drawn. */
function drawn(figure: HTMLElement | null, series: Series) {
  if (!figure) return;
  const n = series.times.length;
  figure.dataset.drawnPoints = String(n);
  figure.dataset.drawnAt = String(Date.now());
  if (n) {
    figure.dataset.lastValue = String(series.values[n - 1]);
    figure.dataset.lastTime = String(Math.round(series.times[n - 1]! * 1000));
  }
}
