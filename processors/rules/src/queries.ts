import { type Page, type PageArgs, PgCheckpoint, queryPage } from '@telly/runtime';
import { isTellyId, type RuleDefinition } from '@telly/schemas';
import type pg from 'pg';
import { RULES_DEFINITIONS } from './definitions.ts';
import type { ThingMetadata, ThingMetadataLookup } from './domain/scope.ts';

export interface RuleRow {
  id: string;
  tenant_id: string;
  name: string;
  thing_id: string | null;
  channel_id: string | null;
  measurement: string;
  definition: RuleDefinition;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export type AlertStatus = 'open' | 'acknowledged' | 'resolved' | 'cleared';

export interface AlertRow {
  id: string;
  tenant_id: string;
  rule_id: string;
  thing_id: string;
  channel_id: string;
  measurement: string;
  severity: string;
  status: AlertStatus;
  value: unknown;
  threshold: unknown;
  message: string;
  raised_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  note: string | null;
  resolved_at: Date | null;
  cleared_at: Date | null;
  /** EVENTS sequence of the last event applied to it. */
  seq: string;
}

export interface AlertActionRow {
  alert_id: string;
  transition: 'raised' | 'resolved';
  action: number;
  kind: string;
  status: 'pending' | 'retrying' | 'sent' | 'failed' | 'suppressed';
  attempts: number;
  last_error: string | null;
  ref: string | null;
  updated_at: Date;
}

const RULE_COLUMNS =
  't.id, t.tenant_id, t.name, t.thing_id, t.channel_id, t.measurement, t.definition, t.enabled, t.created_at, t.updated_at';
const ALERT_COLUMNS =
  't.id, t.tenant_id, t.rule_id, t.thing_id, t.channel_id, t.measurement, t.severity, t.status, t.value, t.threshold, t.message, t.raised_at, t.acknowledged_at, t.acknowledged_by, t.note, t.resolved_at, t.cleared_at, t.seq';
const EMPTY = { items: [], hasNextPage: false, totalCount: 0 };

/** Queries of rules and alerts, each bound to a tenant. */
export class RuleQueries {
  readonly #pool: pg.Pool;
  readonly #definitions: PgCheckpoint;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
    this.#definitions = new PgCheckpoint(pool, RULES_DEFINITIONS);
  }

  async rule(tenantId: string, id: string): Promise<RuleRow | undefined> {
    if (!isTellyId(id)) return undefined;
    const { rows } = await this.#pool.query<RuleRow>(
      `SELECT ${RULE_COLUMNS} FROM rules t WHERE t.tenant_id = $1 AND t.id = $2`,
      [tenantId, id],
    );
    return rows[0];
  }

  rules(
    tenantId: string,
    args: PageArgs & { thingId?: string | null | undefined; channelId?: string | null | undefined },
  ): Promise<Page<RuleRow>> {
    const where = ['t.tenant_id = $1'];
    const params: unknown[] = [tenantId];
    for (const [column, value] of [
      ['thing_id', args.thingId],
      ['channel_id', args.channelId],
    ] as const) {
      if (value == null) continue;
      if (!isTellyId(value)) return Promise.resolve(EMPTY);
      params.push(value);
      where.push(`t.${column} = $${params.length}`);
    }
    return queryPage<RuleRow>(
      this.#pool,
      { select: `SELECT ${RULE_COLUMNS} FROM rules t`, where, params, order: 'desc' },
      args,
    );
  }

  async countRules(tenantId: string): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM rules WHERE tenant_id = $1',
      [tenantId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Whether the rules projection has applied the REGISTRY entry at `seq` (read-your-writes). */
  async applied(seq: number): Promise<boolean> {
    return (await this.#definitions.lastSeq()) >= seq;
  }

  /**
   * The tenant's things' current metadata (`rule_things`), as a lookup for `inScope`: what a
   * backtest of a rule scoped by `thingMetadata` matches with, as the live evaluator does.
   */
  async thingMetadata(tenantId: string): Promise<ThingMetadataLookup> {
    const { rows } = await this.#pool.query<{ thing_id: string; metadata: ThingMetadata }>(
      'SELECT thing_id, metadata FROM rule_things WHERE tenant_id = $1 AND metadata IS NOT NULL',
      [tenantId],
    );
    const things = new Map(rows.map((r) => [r.thing_id, r.metadata]));
    return (tenant, thingId) => (tenant === tenantId ? things.get(thingId) : undefined);
  }

  async alert(tenantId: string, id: string): Promise<AlertRow | undefined> {
    if (!isTellyId(id)) return undefined;
    const { rows } = await this.#pool.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM alerts t WHERE t.tenant_id = $1 AND t.id = $2`,
      [tenantId, id],
    );
    return rows[0];
  }

  alerts(
    tenantId: string,
    args: PageArgs & {
      status?: AlertStatus | null | undefined;
      thingId?: string | null | undefined;
      ruleId?: string | null | undefined;
      severity?: string | null | undefined;
      from?: Date | null | undefined;
      to?: Date | null | undefined;
    },
  ): Promise<Page<AlertRow>> {
    const where = ['t.tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    for (const id of [args.thingId, args.ruleId])
      if (id != null && !isTellyId(id)) return Promise.resolve(EMPTY);
    if (args.status) add((p) => `t.status = ${p}`, args.status);
    if (args.thingId) add((p) => `t.thing_id = ${p}`, args.thingId);
    if (args.ruleId) add((p) => `t.rule_id = ${p}`, args.ruleId);
    if (args.severity) add((p) => `t.severity = ${p}`, args.severity);
    if (args.from) add((p) => `t.raised_at >= ${p}`, args.from);
    if (args.to) add((p) => `t.raised_at < ${p}`, args.to);
    return queryPage<AlertRow>(
      this.#pool,
      { select: `SELECT ${ALERT_COLUMNS} FROM alerts t`, where, params, order: 'desc' },
      args,
    );
  }

  /** What became of each action of an alert's transitions. */
  async actions(tenantId: string, alertId: string): Promise<AlertActionRow[]> {
    const { rows } = await this.#pool.query<AlertActionRow>(
      `SELECT alert_id, transition, action, kind, status, attempts, last_error, ref, updated_at
       FROM alert_actions WHERE tenant_id = $1 AND alert_id = $2 ORDER BY transition = 'resolved', action`,
      [tenantId, alertId],
    );
    return rows;
  }

  /** The secret of a rule's webhook action (by its index), if it has one. */
  async webhookSecret(ruleId: string, action: number): Promise<string | undefined> {
    const { rows } = await this.#pool.query<{ secret: string }>(
      'SELECT secret FROM rule_webhook_secrets WHERE rule_id = $1 AND action = $2',
      [ruleId, action],
    );
    return rows[0]?.secret;
  }

  /** Stores a webhook action's signing secret (outside the log). */
  async setWebhookSecret(ruleId: string, action: number, secret: string): Promise<void> {
    await this.#pool.query(
      `INSERT INTO rule_webhook_secrets (rule_id, action, secret) VALUES ($1, $2, $3)
       ON CONFLICT (rule_id, action) DO UPDATE SET secret = EXCLUDED.secret`,
      [ruleId, action, secret],
    );
  }
}
