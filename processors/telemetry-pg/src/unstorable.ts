/** An entry of the log the projection cannot store: dead-lettered live, reported by replay and verify. */
export interface UnstorableEntry {
  seq: number;
  /** The refused rule (`record 0: t=… is year 58886 …`), or Postgres' own error. */
  reason: string;
}

/** Most unstorable entries a report lists (all are counted). */
export const MAX_LISTED_UNSTORABLE = 100;

/** Unstorable entries as a report shows them: every one counted, the first ones listed. */
export class UnstorableEntries {
  count = 0;
  readonly listed: UnstorableEntry[] = [];

  add(entry: UnstorableEntry): void {
    this.count++;
    if (this.listed.length < MAX_LISTED_UNSTORABLE) this.listed.push(entry);
  }
}
