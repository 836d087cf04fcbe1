// Runs Telly and its reference alternately, ABBA-style (T R, R T, T R, …), so that drift on a
// shared machine (other jobs, thermal, page cache) hits both sides alike; reports both series.

export interface Alternated<T> {
  telly: T[];
  reference: T[];
}

export async function alternate<T>(
  runs: number,
  telly: (run: number) => Promise<T>,
  reference: (run: number) => Promise<T>,
  log: (message: string) => void,
): Promise<Alternated<T>> {
  const out: Alternated<T> = { telly: [], reference: [] };
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? (['telly', 'reference'] as const) : (['reference', 'telly'] as const);
    for (const side of order) {
      log(`run ${run + 1}/${runs}: ${side}`);
      out[side].push(await (side === 'telly' ? telly(run) : reference(run)));
    }
  }
  return out;
}
