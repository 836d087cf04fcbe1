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

/**
 * The same for more than two sides: each run takes them in a rotated order (A B C, B C A, C A B,
 * …), so that each side is as often early as late in a run.
 */
export async function alternateSides<K extends string, T>(
  runs: number,
  sides: Record<K, (run: number) => Promise<T>>,
  log: (message: string) => void,
): Promise<Record<K, T[]>> {
  const names = Object.keys(sides) as K[];
  const out = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<K, T[]>;
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < names.length; i++) {
      const side = names[(run + i) % names.length]!;
      log(`run ${run + 1}/${runs}: ${side}`);
      out[side].push(await sides[side](run));
    }
  }
  return out;
}
