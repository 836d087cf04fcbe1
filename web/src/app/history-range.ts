/** The history ranges offered, each with the bucket that keeps a chart near 60–400 points. */
export const RANGES = {
  '1h': { label: 'Last hour', ms: 3_600_000, every: '1m', everyMs: 60_000 },
  '6h': { label: 'Last 6 hours', ms: 6 * 3_600_000, every: '5m', everyMs: 300_000 },
  '24h': { label: 'Last 24 hours', ms: 24 * 3_600_000, every: '15m', everyMs: 900_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000, every: '1h', everyMs: 3_600_000 },
  '30d': { label: 'Last 30 days', ms: 30 * 86_400_000, every: '6h', everyMs: 6 * 3_600_000 },
  '1y': { label: 'Last year', ms: 365 * 86_400_000, every: '1d', everyMs: 86_400_000 },
} as const;
export type RangeKey = keyof typeof RANGES;

/**
 * `[from, to)` of a range ending now, cut on its buckets (UTC, from the epoch), so the API
 * answers it from the 1-minute and 1-hour rollups: the last bucket is the current, partial one.
 */
export function historyWindow(range: RangeKey, now: number): { from: string; to: string; every: string } {
  const { ms, every, everyMs } = RANGES[range];
  const to = Math.ceil((now + 1) / everyMs) * everyMs;
  const from = Math.floor((now - ms) / everyMs) * everyMs;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), every };
}
