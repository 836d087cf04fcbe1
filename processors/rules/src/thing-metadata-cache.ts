import type pg from 'pg';
import type { ThingMetadata, ThingMetadataLookup } from './domain/scope.ts';

interface ThingRow {
  thing_id: string;
  tenant_id: string;
  metadata: ThingMetadata | null;
  seq: string;
}

/**
 * Every thing's current metadata, in memory, from `rule_things`: each refresh reads only the
 * rows changed since the last one (`thingsProjection` commits them in `seq` order, deletions
 * included as NULL metadata), so following a fleet costs one indexed query per refresh.
 */
export class ThingMetadataCache {
  #seq = -1;
  readonly #things = new Map<string, { tenantId: string; metadata: ThingMetadata }>();

  async refresh(db: pg.Pool | pg.PoolClient): Promise<void> {
    const { rows } = await db.query<ThingRow>(
      'SELECT thing_id, tenant_id, metadata, seq FROM rule_things WHERE seq > $1 ORDER BY seq',
      [this.#seq],
    );
    for (const row of rows) {
      if (row.metadata === null) this.#things.delete(row.thing_id);
      else this.#things.set(row.thing_id, { tenantId: row.tenant_id, metadata: row.metadata });
      this.#seq = Number(row.seq);
    }
  }

  /** The thing's metadata, if it is a thing of that tenant. */
  readonly lookup: ThingMetadataLookup = (tenantId, thingId) => {
    const thing = this.#things.get(thingId);
    return thing?.tenantId === tenantId ? thing.metadata : undefined;
  };
}
