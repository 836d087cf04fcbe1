import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { RegistryQueries, type RegistryStore } from '@telly/registry';
import {
  type BacktestAlert,
  backtest,
  isRuleError,
  type RuleInput,
  RuleQueries,
  type RuleRow,
  ruleDecider,
  toRule,
  validateRule,
} from '@telly/rules';
import { logEntryOf, type Page, type PageArgs } from '@telly/runtime';
import { messageFilters, type RuleDefinition, STREAMS } from '@telly/schemas';
import type pg from 'pg';
import { v7 } from 'uuid';
import type { Principal } from '../auth/principal.ts';
import { ApiError, invalid, notFound } from '../errors.ts';

export type { RuleRow } from '@telly/rules';

/** Rules one tenant may have. @default 1000 */
export const MAX_RULES_PER_TENANT = 1_000;
/** The longest history a backtest reads. @default 31 days */
export const MAX_BACKTEST_RANGE_MS = 31 * 24 * 3_600_000;
/** The most log entries a backtest reads. @default 1,000,000 */
export const MAX_BACKTEST_ENTRIES = 1_000_000;

/**
 * Rules as registry entities (`reg.<tenant>.rule.<id>`): decided by `ruleDecider`, appended
 * with optimistic concurrency by the registry's store, read back once the rules projection
 * has them. Everything a rule names (its thing, channel, the things its commands go to) must
 * be the tenant's.
 */
export class RuleService {
  readonly #store: RegistryStore;
  readonly #rules: RuleQueries;
  readonly #registry: RegistryQueries;
  readonly #js: JetStreamClient;

  constructor(store: RegistryStore, pool: pg.Pool, js: JetStreamClient) {
    this.#store = store;
    this.#rules = new RuleQueries(pool);
    this.#registry = new RegistryQueries(pool);
    this.#js = js;
  }

  rule(p: Principal, id: string): Promise<RuleRow | undefined> {
    return this.#rules.rule(p.tenantId, id);
  }

  rules(
    p: Principal,
    args: PageArgs & { thingId?: string | null; channelId?: string | null },
  ): Promise<Page<RuleRow>> {
    return this.#rules.rules(p.tenantId, args);
  }

  /** Validates a rule's input against the tenant's registry; `field` paths start at `prefix`. */
  async definition(p: Principal, input: RuleInput, prefix = 'input'): Promise<RuleDefinition> {
    let def: RuleDefinition;
    try {
      def = validateRule(input);
    } catch (err) {
      if (isRuleError(err, 'INVALID_RULE')) throw invalid(`${prefix}.${err.field}`, err.message);
      throw err;
    }
    if (def.thingId && !(await this.#registry.thing(p.tenantId, def.thingId))) {
      throw invalid(`${prefix}.thingId`, 'is not a thing of this tenant');
    }
    if (def.channelId && !(await this.#registry.channel(p.tenantId, def.channelId))) {
      throw invalid(`${prefix}.channelId`, 'is not a channel of this tenant');
    }
    for (const [i, action] of def.actions.entries()) {
      if (action.kind === 'command' && !(await this.#registry.thing(p.tenantId, action.thingId))) {
        throw invalid(`${prefix}.actions[${i}].command.thingId`, 'is not a thing of this tenant');
      }
    }
    return def;
  }

  async create(p: Principal, input: RuleInput, enabled = true): Promise<RuleRow> {
    const def = await this.definition(p, input);
    if ((await this.#rules.countRules(p.tenantId)) >= MAX_RULES_PER_TENANT) {
      throw invalid('input', `this tenant has ${MAX_RULES_PER_TENANT} rules, the most it may have`);
    }
    const ruleId = v7();
    await this.#run(p, ruleId, { type: 'create', ruleId, def, enabled });
    await this.#secrets(ruleId, input);
    return this.#read(p, ruleId);
  }

  async update(p: Principal, id: string, input: RuleInput): Promise<RuleRow> {
    if (!(await this.rule(p, id))) throw notFound('rule', id);
    const def = await this.definition(p, input);
    await this.#run(p, id, { type: 'update', def });
    await this.#secrets(id, input);
    return this.#read(p, id);
  }

  async setEnabled(p: Principal, id: string, enabled: boolean): Promise<RuleRow> {
    if (!(await this.rule(p, id))) throw notFound('rule', id);
    await this.#run(p, id, { type: enabled ? 'enable' : 'disable' });
    return this.#read(p, id);
  }

  async delete(p: Principal, id: string): Promise<boolean> {
    if (!(await this.rule(p, id))) throw notFound('rule', id);
    await this.#run(p, id, { type: 'delete' });
    return true;
  }

  async #run(p: Principal, id: string, command: Parameters<typeof ruleDecider.decide>[0]): Promise<void> {
    let result: Awaited<ReturnType<RegistryStore['handle']>>;
    try {
      result = await this.#store.handle(ruleDecider, { tenantId: p.tenantId, kind: 'rule', id }, command, {
        actor: p.actor,
      });
    } catch (err) {
      if (isRuleError(err, 'NOT_FOUND')) throw notFound('rule', id);
      throw err;
    }
    if (result.events.length === 0) return;
    const deadline = Date.now() + 10_000;
    while (!(await this.#rules.applied(result.seq))) {
      if (Date.now() > deadline) {
        throw new ApiError(
          'UNAVAILABLE',
          'the rule is recorded but the rules projection is behind; query it shortly',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async #secrets(ruleId: string, input: RuleInput): Promise<void> {
    for (const [i, action] of (input.actions ?? []).entries()) {
      if (action.webhook?.secret) await this.#rules.setWebhookSecret(ruleId, i, action.webhook.secret);
    }
  }

  async #read(p: Principal, id: string): Promise<RuleRow> {
    const row = await this.rule(p, id);
    if (!row) throw notFound('rule', id);
    return row;
  }

  /**
   * Runs a rule (saved or not) over the log's history from `from` to `to` and returns the
   * alerts it would have raised, with the ids the live rule gives them; nothing is written,
   * mailed or sent. Reads the tenant's MESSAGES of the rule's scope through an ordered consumer.
   */
  async backtest(
    p: Principal,
    input: RuleInput,
    from: Date,
    to: Date,
    ruleId?: string,
  ): Promise<{ alerts: BacktestAlert[]; readings: number; entries: number }> {
    // the rule first: its answer does not depend on the range
    const def = await this.definition(p, input);
    if (!(to.getTime() > from.getTime())) throw invalid('to', 'must be after from');
    if (to.getTime() - from.getTime() > MAX_BACKTEST_RANGE_MS)
      throw invalid('to', 'the range is at most 31 days');
    const rule = toRule(ruleId ?? v7(), p.tenantId, true, def);
    const stream = await this.#js.streams.get(STREAMS.MESSAGES.name);
    const { state } = await stream.info(false);
    const entries: ReturnType<typeof logEntryOf>[] = [];
    if (state.messages > 0) {
      const consumer = await this.#js.consumers.get(STREAMS.MESSAGES.name, {
        filter_subjects: [
          ...messageFilters({ tenant: p.tenantId, channel: def.channelId, thing: def.thingId }),
        ],
        deliver_policy: DeliverPolicy.StartTime,
        // readings are stamped by their devices; the log's time of a late one is after it
        opt_start_time: new Date(from.getTime() - 60_000).toISOString(),
      });
      const end = state.last_seq;
      for (;;) {
        const batch = await consumer.fetch({ max_messages: 1_000, expires: 2_000 });
        let got = 0;
        let done = false;
        for await (const m of batch) {
          got++;
          entries.push(logEntryOf(m));
          const past = m.info.timestampNanos / 1e6 > to.getTime() + 60_000;
          if (m.info.streamSequence >= end || m.info.pending === 0 || past) done = true;
          if (entries.length >= MAX_BACKTEST_ENTRIES) {
            throw invalid(
              'to',
              `the range holds more than ${MAX_BACKTEST_ENTRIES} messages; backtest a shorter one`,
            );
          }
        }
        if (done || got === 0) break;
      }
    }
    const result = backtest(rule, entries, { from, to });
    return { ...result, entries: entries.length };
  }
}
