import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { RegistryQueries, type RegistryStore } from '@telly/registry';
import {
  type BacktestResult,
  backtestLog,
  isRuleError,
  type RuleInput,
  RuleQueries,
  type RuleRow,
  ruleDecider,
  toRule,
  validateRule,
} from '@telly/rules';
import { type Job, JobQueue, type JobQueueOptions, type Page, type PageArgs } from '@telly/runtime';
import type { RuleDefinition } from '@telly/schemas';
import type pg from 'pg';
import { v7 } from 'uuid';
import type { Principal } from '../auth/principal.ts';
import { DEFAULT_MAX_RULES_PER_TENANT } from '../config.ts';
import { ApiError, invalid, notFound } from '../errors.ts';
import { validLogRange } from './validate.ts';

export type { RuleRow } from '@telly/rules';

/**
 * The backtest queue: one backtest of a tenant runs at a time (it streams the log), a few wait,
 * and one may run 10 minutes (a month of a busy tenant's log).
 */
export const DEFAULT_BACKTEST_JOBS = {
  concurrency: 1,
  maxQueued: 10,
  timeoutMs: 600_000,
  retentionMs: 3_600_000,
} as const satisfies JobQueueOptions;

/** Where the API instances answer for the backtests each holds (`<prefix>.get|cancel|changed.<tenant>.<job>`). */
export const BACKTEST_JOBS_SUBJECT = 'telly.jobs.backtests';

export interface RuleServiceOptions {
  /** Rules one tenant may have (`TELLY_MAX_RULES_PER_TENANT`). @default {@link DEFAULT_MAX_RULES_PER_TENANT} */
  maxRulesPerTenant?: number | undefined;
  /** The backtest queue. @default {@link DEFAULT_BACKTEST_JOBS} */
  backtests?: JobQueueOptions | undefined;
}

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
  readonly #maxRules: number;
  /** The tenants' backtests (kind `backtest`, subject the rule's id). */
  readonly backtests: JobQueue<BacktestResult>;

  constructor(
    store: RegistryStore,
    pool: pg.Pool,
    nc: NatsConnection,
    js: JetStreamClient,
    options: RuleServiceOptions = {},
  ) {
    this.#store = store;
    this.#rules = new RuleQueries(pool);
    this.#registry = new RegistryQueries(pool);
    this.#js = js;
    this.#maxRules = options.maxRulesPerTenant ?? DEFAULT_MAX_RULES_PER_TENANT;
    // any API instance answers for the backtests another holds
    this.backtests = new JobQueue<BacktestResult>({
      ...DEFAULT_BACKTEST_JOBS,
      ...options.backtests,
      peer: { nc, subjectPrefix: BACKTEST_JOBS_SUBJECT },
    });
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
    // counted, then created: creates racing each other may pass the cap by their number
    if ((await this.#rules.countRules(p.tenantId)) >= this.#maxRules) {
      throw invalid('input', `this tenant has ${this.#maxRules} rules, the most it may have`);
    }
    const ruleId = v7();
    // the secrets first: a rule that raises at once must find them to sign its webhooks
    await this.#secrets(ruleId, input);
    await this.#run(p, ruleId, { type: 'create', ruleId, def, enabled });
    return this.#read(p, ruleId);
  }

  async update(p: Principal, id: string, given: RuleInput): Promise<RuleRow> {
    const current = await this.rule(p, id);
    if (!current) throw notFound('rule', id);
    const input = await this.#keepSecrets(current, given);
    const def = await this.definition(p, input);
    await this.#secrets(id, input);
    await this.#run(p, id, { type: 'update', def });
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

  /**
   * An update's webhook that leaves its secret out (`undefined`, not `null`) keeps the secret the
   * rule's webhook to the same URL had: an edit never turns a signed webhook into an unsigned
   * one unasked. `secret: null` removes it.
   */
  async #keepSecrets(current: RuleRow, input: RuleInput): Promise<RuleInput> {
    const signed = new Map<string, number>();
    for (const [i, action] of current.definition.actions.entries()) {
      if (action.kind === 'webhook' && action.secret && !signed.has(action.url)) signed.set(action.url, i);
    }
    if (signed.size === 0 || !input.actions) return input;
    const actions = await Promise.all(
      input.actions.map(async (action) => {
        const webhook = action.webhook;
        if (!webhook || webhook.secret !== undefined) return action;
        const from = signed.get(webhook.url);
        const secret = from === undefined ? undefined : await this.#rules.webhookSecret(current.id, from);
        return secret === undefined ? action : { ...action, webhook: { ...webhook, secret } };
      }),
    );
    return { ...input, actions };
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
   * Queues a backtest: the rule (saved or not) run over the log's history from `from` to `to`,
   * as a job whose result is the alerts it would have raised, with the ids the live rule gives
   * them (a saved rule's when `ruleId` names one of the tenant's); nothing is written, mailed
   * or sent. The job streams the tenant's MESSAGES of the rule's scope, its progress the share
   * of the range read.
   */
  async backtest(
    p: Principal,
    input: RuleInput,
    from: Date,
    to: Date,
    ruleId?: string,
  ): Promise<Job<BacktestResult>> {
    // the rule first: its answer does not depend on the range
    const def = await this.definition(p, input);
    validLogRange(from, to);
    if (ruleId !== undefined && !(await this.rule(p, ruleId))) throw notFound('rule', ruleId);
    const rule = toRule(ruleId ?? v7(), p.tenantId, true, def);
    return this.backtests.submit(p.tenantId, 'backtest', rule.id, async (signal, progress) => {
      // a rule scoped by thingMetadata watches the things whose metadata matches now
      const thingMetadata = def.thingMetadata ? await this.#rules.thingMetadata(p.tenantId) : undefined;
      return backtestLog(this.#js, rule, {
        from,
        to,
        signal,
        onProgress: progress,
        ...(thingMetadata && { thingMetadata }),
      });
    });
  }

  close(): void {
    this.backtests.close();
  }
}
