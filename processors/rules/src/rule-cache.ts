import type { RuleDefinition } from '@telly/schemas';
import type pg from 'pg';
import { inScope } from './domain/scope.ts';
import type { Rule } from './domain/types.ts';
import { toRule } from './domain/validate.ts';
import { ThingMetadataCache } from './thing-metadata-cache.ts';

interface RuleRow {
  id: string;
  tenant_id: string;
  enabled: boolean;
  definition: RuleDefinition;
}

/**
 * The enabled rules, by tenant and measurement, read from the `rules` table and read again
 * whenever the rules projection committed since (`rules_version` moved), so the evaluator sees
 * a rule from the batch after its `rule.created` was projected. While an enabled rule is scoped
 * by `thingMetadata`, each refresh also follows the things' metadata (`rule_things`), so a
 * thing whose metadata changed is matched by it, or no longer, from the batch after the change
 * was projected.
 */
export class RuleCache {
  readonly #pool: pg.Pool | pg.PoolClient;
  #version = '';
  #byKey = new Map<string, Watchers>();
  #byId = new Map<string, Rule>();
  #metadataScoped = false;
  readonly #things = new ThingMetadataCache();

  constructor(pool: pg.Pool | pg.PoolClient) {
    this.#pool = pool;
  }

  /**
   * Reloads the rules when one was created, changed or deleted since the last call, and the
   * things' metadata changed since, while some enabled rule is scoped by it.
   */
  async refresh(db: pg.Pool | pg.PoolClient = this.#pool): Promise<void> {
    const { rows } = await db.query<{ version: string }>({
      name: 'rules-version',
      text: 'SELECT version FROM rules_version',
    });
    await this.at(db, rows[0]?.version ?? '0');
  }

  /**
   * Brings the rules to `version` of `rules_version` (read by the caller: the evaluator reads
   * it under its lock), and the things' metadata too while some enabled rule is scoped by it.
   * Answers the version held.
   */
  async at(db: pg.Pool | pg.PoolClient, version: string): Promise<string> {
    if (version !== this.#version) await this.#load(db, version);
    if (this.#metadataScoped) await this.#things.refresh(db);
    return this.#version;
  }

  async #load(db: pg.Pool | pg.PoolClient, version: string): Promise<void> {
    const all = await db.query<RuleRow>('SELECT id, tenant_id, enabled, definition FROM rules');
    const byKey = new Map<string, Watchers>();
    const byId = new Map<string, Rule>();
    let metadataScoped = false;
    for (const row of all.rows) {
      const rule = toRule(row.id, row.tenant_id, row.enabled, row.definition);
      byId.set(rule.id, rule);
      if (!rule.enabled) continue;
      metadataScoped ||= rule.def.thingMetadata !== undefined;
      const key = keyOf(row.tenant_id, rule.def.measurement);
      const watchers = byKey.get(key) ?? { byThing: new Map<string, Rule[]>(), others: [] };
      byKey.set(key, watchers);
      const thingId = rule.def.thingId;
      if (thingId === undefined) watchers.others.push(rule);
      else if (watchers.byThing.has(thingId)) watchers.byThing.get(thingId)!.push(rule);
      else watchers.byThing.set(thingId, [rule]);
    }
    this.#byKey = byKey;
    this.#byId = byId;
    this.#metadataScoped = metadataScoped;
    this.#version = version;
  }

  /** The enabled rules watching this measurement of this thing. */
  matching(tenantId: string, thingId: string, channelId: string, name: string): Rule[] {
    const watchers = this.#byKey.get(keyOf(tenantId, name));
    if (!watchers) return [];
    // a thing's own rules, then the channel's and tenant's: a fleet of thing rules is not
    // scanned for every reading
    const own = watchers.byThing.get(thingId) ?? [];
    const candidates = watchers.others.length === 0 ? own : [...own, ...watchers.others];
    return candidates.filter((r) => inScope(r, { tenantId, thingId, channelId }, this.#things.lookup));
  }

  /** Whether the rule still watches this thing on this channel (a timer asks before firing). */
  watches(rule: Rule, thingId: string, channelId: string): boolean {
    return inScope(rule, { tenantId: rule.tenantId, thingId, channelId }, this.#things.lookup);
  }

  /** Which rules are held: changes whenever one was created, changed or deleted. */
  get version(): string {
    return this.#version;
  }

  rule(id: string): Rule | undefined {
    return this.#byId.get(id);
  }

  get size(): number {
    return this.#byId.size;
  }
}

const keyOf = (tenantId: string, name: string) => `${tenantId}\u0000${name}`;

/** The enabled rules over one measurement of a tenant: those naming a thing, by thing, and the rest. */
interface Watchers {
  byThing: Map<string, Rule[]>;
  others: Rule[];
}
