import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { type AlertActionRow, type AlertRow, type AlertStatus, RuleQueries } from '@telly/rules';
import type { Logger, Page, PageArgs, Publisher } from '@telly/runtime';
import { createEvent, decodeEvent, eventFilter, STREAMS } from '@telly/schemas';
import { Repeater } from 'graphql-yoga';
import type pg from 'pg';
import { v7 } from 'uuid';
import type { Principal } from '../auth/principal.ts';
import { ApiError, invalid, notFound } from '../errors.ts';

export type { AlertActionRow, AlertRow } from '@telly/rules';

/** Live alert subscriptions one tenant may hold on one API instance. @default 100 */
export const MAX_ALERT_SUBSCRIPTIONS_PER_TENANT = 100;
const MAX_NOTE = 1024;

/**
 * Alerts: the rules processor's read model, acknowledged and cleared by users (events appended
 * to EVENTS, read back once projected), and a live feed of their changes.
 */
export class AlertService {
  readonly #rules: RuleQueries;
  readonly #publisher: Publisher;
  readonly #js: JetStreamClient;
  readonly #logger: Logger;
  readonly #active = new Map<string, number>();

  constructor(pool: pg.Pool, publisher: Publisher, js: JetStreamClient, logger: Logger) {
    this.#rules = new RuleQueries(pool);
    this.#publisher = publisher;
    this.#js = js;
    this.#logger = logger;
  }

  alert(tenantId: string, id: string): Promise<AlertRow | undefined> {
    return this.#rules.alert(tenantId, id);
  }

  alerts(
    p: Principal,
    args: PageArgs & {
      status?: AlertStatus | null;
      thingId?: string | null;
      ruleId?: string | null;
      severity?: string | null;
      from?: Date | null;
      to?: Date | null;
    },
  ): Promise<Page<AlertRow>> {
    return this.#rules.alerts(p.tenantId, args);
  }

  actions(tenantId: string, alertId: string): Promise<AlertActionRow[]> {
    return this.#rules.actions(tenantId, alertId);
  }

  /** A user takes note of an open alert. */
  acknowledge(p: Principal, id: string, note: string | null | undefined): Promise<AlertRow> {
    return this.#transition(p, id, note, 'alert.acknowledged', ['open'], 'acknowledged');
  }

  /** A user closes an open (or acknowledged) alert by hand. */
  clear(p: Principal, id: string, note: string | null | undefined): Promise<AlertRow> {
    return this.#transition(p, id, note, 'alert.cleared', ['open', 'acknowledged'], 'cleared');
  }

  async #transition(
    p: Principal,
    id: string,
    note: string | null | undefined,
    type: 'alert.acknowledged' | 'alert.cleared',
    from: AlertStatus[],
    to: AlertStatus,
  ): Promise<AlertRow> {
    const alert = await this.alert(p.tenantId, id);
    if (!alert) throw notFound('alert', id);
    if (note != null && note.length > MAX_NOTE)
      throw invalid('note', `must be at most ${MAX_NOTE} characters`);
    if (!from.includes(alert.status)) throw invalid('id', `the alert is ${alert.status}`);
    const event = createEvent(
      type,
      {
        tenantId: p.tenantId,
        actor: p.actor,
        data: {
          alertId: alert.id,
          ruleId: alert.rule_id,
          thingId: alert.thing_id,
          name: alert.measurement,
          ...(note != null ? { note } : {}),
        },
      },
      { id: v7(), now: Date.now() },
    );
    try {
      await this.#publisher.publishEvent(event, { msgId: `${type}:${alert.id}` });
    } catch (err) {
      throw new ApiError(
        'UNAVAILABLE',
        'the event log is unavailable; nothing was changed',
        {},
        { cause: err },
      );
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const row = await this.alert(p.tenantId, id);
      if (row && row.status !== alert.status) return row;
      if (Date.now() > deadline)
        throw new ApiError('UNAVAILABLE', `the alert is ${to} but the read model is behind`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Each change of the tenant's alerts (of one thing, optionally) from now on, as the alert
   * reads once projected. Reads `evt.<tenant>.alert.<thing|*>` through an ordered consumer.
   */
  subscribe(
    p: Principal,
    thingId: string | undefined,
    stillAllowed: () => Promise<void>,
  ): AsyncIterable<AlertRow> {
    const tenantId = p.tenantId;
    if ((this.#active.get(tenantId) ?? 0) >= MAX_ALERT_SUBSCRIPTIONS_PER_TENANT) {
      throw new ApiError(
        'TOO_MANY_SUBSCRIPTIONS',
        `at most ${MAX_ALERT_SUBSCRIPTIONS_PER_TENANT} alert subscriptions per tenant on one API instance`,
      );
    }
    return new Repeater<AlertRow>(async (push, stop) => {
      this.#active.set(tenantId, (this.#active.get(tenantId) ?? 0) + 1);
      const recheck = setInterval(() => {
        stillAllowed().catch((err: unknown) => stop(err instanceof Error ? err : new Error(String(err))));
      }, 10_000);
      try {
        // one filter as a string: the client then creates the consumer by name and filter
        // (CONSUMER.CREATE.EVENTS.<name>.<filter>), which the API's NATS user may; an array
        // takes the bare CONSUMER.CREATE.EVENTS, which it may not (deploy/src/up/nats-auth.ts)
        const consumer = await this.#js.consumers.get(STREAMS.EVENTS.name, {
          filter_subjects: eventFilter({
            tenant: tenantId,
            type: 'alert',
            ...(thingId ? { thing: thingId } : {}),
          }),
          deliver_policy: DeliverPolicy.New,
        });
        const messages = await consumer.consume({ max_messages: 100 });
        stop.then(() => messages.stop());
        for await (const m of messages) {
          const event = decodeEvent(m.data);
          if (
            !('alertId' in event.data) ||
            event.type === 'alert.notified' ||
            event.type === 'alert.notification-failed'
          ) {
            continue;
          }
          const alertId = event.data.alertId;
          const deadline = Date.now() + 5_000;
          let row = await this.alert(tenantId, alertId);
          while ((!row || Number(row.seq) < m.seq) && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            row = await this.alert(tenantId, alertId);
          }
          if (row) await push(Number(row.seq) > m.seq ? asOf(row, event.type) : row);
        }
      } catch (err) {
        this.#logger.error({ err }, 'alert subscription failed');
        stop(new ApiError('UNAVAILABLE', 'the alert feed is unavailable; resubscribe shortly'));
      } finally {
        clearInterval(recheck);
        this.#active.set(tenantId, (this.#active.get(tenantId) ?? 1) - 1);
      }
    });
  }
}

/**
 * The alert as one change left it. The row may have moved on by the time the change is streamed
 * (acknowledged right after it was raised, say): what later changes set is taken off again, so
 * each change reads as itself, once.
 */
function asOf(row: AlertRow, type: string): AlertRow {
  switch (type) {
    case 'alert.raised':
      return {
        ...row,
        status: 'open',
        acknowledged_at: null,
        acknowledged_by: null,
        note: null,
        resolved_at: null,
        cleared_at: null,
      };
    case 'alert.acknowledged':
      return { ...row, status: 'acknowledged', resolved_at: null, cleared_at: null };
    case 'alert.resolved':
      return { ...row, status: 'resolved', cleared_at: null };
    case 'alert.cleared':
      return { ...row, status: 'cleared' };
    default:
      return row;
  }
}
