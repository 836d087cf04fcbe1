import { createHmac } from 'node:crypto';
import { requestCommand } from '@telly/commands';
import { Backoff, type Logger, type Publisher } from '@telly/runtime';
import { createEvent, type EventOf, parseDuration, type RuleDefinition } from '@telly/schemas';
import nodemailer from 'nodemailer';
import type pg from 'pg';
import { alertEventId, deterministicId } from './domain/ids.ts';
import { RuleQueries } from './queries.ts';

type Action = RuleDefinition['actions'][number];

/** How often the action queue is looked at. @default 250 */
export const DEFAULT_NOTIFY_INTERVAL_MS = 250;
/** An action is tried this often before it is given up (`final`). @default 30 */
export const MAX_ACTION_ATTEMPTS = 30;
/** Between attempts: 1 s doubling to 5 s, so a mail arrives within seconds of the server's return. */
const RETRY = new Backoff({ minMs: 1_000, maxMs: 5_000, jitter: 0.2 });
/** A claimed action is someone's for this long; after it, another instance may take it. */
const LEASE_MS = 60_000;
/** The commands a rule sends wait this long for their thing. */
const ACTION_COMMAND_TTL_MS = 3_600_000;

export interface NotifierConfig {
  /** `TELLY_SMTP_URL`, e.g. `smtp://mail.example.com:587`; without it e-mail actions fail. */
  smtpUrl: string | undefined;
  /** `TELLY_MAIL_FROM`. */
  mailFrom: string;
}

interface Job {
  alert_id: string;
  transition: 'raised' | 'resolved';
  action: number;
  tenant_id: string;
  rule_id: string;
  thing_id: string;
  kind: Action['kind'];
  spec: Action;
  attempts: number;
  // the alert
  measurement: string;
  severity: string;
  message: string;
  value: unknown;
  threshold: unknown;
  raised_at: Date;
  resolved_at: Date | null;
  rule_name: string | null;
}

class PermanentActionError extends Error {}

/**
 * Carries out the queued actions of alert transitions (`alert_actions`): e-mail through
 * nodemailer, a command through the command path (timed ones included), a signed webhook.
 * A job is leased, tried, and its outcome recorded in the table and as `alert.notified` /
 * `alert.notification-failed` in EVENTS; a failure is retried with backoff until it succeeds
 * or has been tried {@link MAX_ACTION_ATTEMPTS} times. Each attempt of one job carries the
 * same identity (the mail's Message-ID, the command id, the webhook's `X-Telly-Delivery`), so a
 * receiver can drop the repeat of an attempt whose answer was lost.
 */
export function startNotifier(
  pool: pg.Pool,
  publisher: Publisher,
  config: NotifierConfig,
  logger: Logger,
  intervalMs = DEFAULT_NOTIFY_INTERVAL_MS,
): { kick(): void; stop(): Promise<void> } {
  const mailer = config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : undefined;
  const queries = new RuleQueries(pool);
  let running: Promise<void> | undefined;
  let again = false;

  const record = async (
    job: Job,
    outcome: { ok: true; ref: string } | { ok: false; error: string; final: boolean },
  ) => {
    const attempts = job.attempts + 1;
    const base = {
      alertId: job.alert_id,
      ruleId: job.rule_id,
      thingId: job.thing_id,
      name: job.measurement,
      transition: job.transition,
      action: job.action,
      kind: job.kind,
      attempts,
    };
    const what = `${job.transition}:${job.action}`;
    const event: EventOf<'alert.notified' | 'alert.notification-failed'> = outcome.ok
      ? createEvent(
          'alert.notified',
          { tenantId: job.tenant_id, actor: 'system', data: { ...base, ref: outcome.ref } },
          { id: alertEventId(job.alert_id, `notified:${what}`, Date.now()), now: Date.now() },
        )
      : createEvent(
          'alert.notification-failed',
          {
            tenantId: job.tenant_id,
            actor: 'system',
            data: { ...base, error: outcome.error, final: outcome.final },
          },
          { id: alertEventId(job.alert_id, `failed:${what}:${attempts}`, Date.now()), now: Date.now() },
        );
    await pool.query(
      `UPDATE alert_actions SET attempts = $4, updated_at = now(),
         status = $5, ref = COALESCE($6, ref), last_error = $7, next_at = now() + make_interval(secs => $8)
       WHERE alert_id = $1 AND transition = $2 AND action = $3`,
      [
        job.alert_id,
        job.transition,
        job.action,
        attempts,
        outcome.ok ? 'sent' : outcome.final ? 'failed' : 'retrying',
        outcome.ok ? outcome.ref : null,
        outcome.ok ? null : outcome.error.slice(0, 1024),
        outcome.ok ? 0 : RETRY.delay(attempts) / 1000,
      ],
    );
    // the table first: a lost event must not make the action run again
    await publisher
      .publishEvent(event, { msgId: `${event.type}:${job.alert_id}:${what}:${attempts}` })
      .catch((err: unknown) =>
        logger.warn({ err, alertId: job.alert_id }, 'recording an alert action in EVENTS failed'),
      );
  };

  const carryOut = async (job: Job): Promise<string> => {
    const spec = job.spec;
    const subject = `[${job.transition === 'raised' ? job.severity.toUpperCase() : 'RESOLVED'}] ${job.rule_name ?? 'rule'}: ${job.message}`;
    const identity = `${job.alert_id}.${job.transition}.${job.action}`;
    switch (spec.kind) {
      case 'email': {
        if (!mailer) throw new PermanentActionError('TELLY_SMTP_URL is not set: e-mail cannot be sent');
        const messageId = `<${identity}@telly>`;
        await mailer.sendMail({
          from: config.mailFrom,
          to: spec.to,
          subject: subject.slice(0, 998),
          messageId,
          text: [
            job.message,
            '',
            `rule:        ${job.rule_name ?? job.rule_id}`,
            `thing:       ${job.thing_id}`,
            `measurement: ${job.measurement}`,
            `value:       ${job.value === null ? '' : JSON.stringify(job.value)}`,
            `severity:    ${job.severity}`,
            `raised at:   ${job.raised_at.toISOString()}`,
            ...(job.resolved_at ? [`resolved at: ${job.resolved_at.toISOString()}`] : []),
            `alert:       ${job.alert_id}`,
          ].join('\n'),
        });
        return messageId;
      }
      case 'command': {
        const at = job.raised_at.getTime();
        const sent = await requestCommand(publisher, {
          tenantId: job.tenant_id,
          actor: 'system',
          thingId: spec.thingId,
          name: spec.name,
          payload: spec.payload,
          ttlMs: ACTION_COMMAND_TTL_MS,
          revert: spec.duration
            ? { afterMs: parseDuration(spec.duration), payload: spec.revertPayload ?? null }
            : undefined,
          commandId: deterministicId(at, 'command', identity),
          revertCommandId: deterministicId(at, 'revert', identity),
          msgIdPrefix: `action:${identity}:`,
        });
        return sent.commandId;
      }
      case 'webhook': {
        const body = JSON.stringify({
          alertId: job.alert_id,
          transition: job.transition,
          ruleId: job.rule_id,
          rule: job.rule_name,
          thingId: job.thing_id,
          measurement: job.measurement,
          value: job.value,
          threshold: job.threshold,
          severity: job.severity,
          message: job.message,
          raisedAt: job.raised_at.toISOString(),
          resolvedAt: job.resolved_at?.toISOString() ?? null,
        });
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'x-telly-delivery': identity,
        };
        if (spec.secret) {
          const secret = await queries.webhookSecret(job.rule_id, job.action);
          if (secret === undefined) throw new PermanentActionError('the webhook secret is missing');
          headers['x-telly-signature'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
        }
        const res = await fetch(spec.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.body?.cancel();
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          throw new PermanentActionError(`the webhook answered ${res.status}`);
        }
        if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
        return String(res.status);
      }
    }
  };

  const drain = async () => {
    for (;;) {
      const { rows } = await pool.query<Job>(
        `WITH due AS (
           SELECT alert_id, transition, action FROM alert_actions
           WHERE status IN ('pending', 'retrying') AND next_at <= now()
           ORDER BY next_at LIMIT 16 FOR UPDATE SKIP LOCKED)
         UPDATE alert_actions j SET next_at = now() + make_interval(secs => $1)
         FROM due WHERE j.alert_id = due.alert_id AND j.transition = due.transition AND j.action = due.action
         RETURNING j.alert_id, j.transition, j.action, j.tenant_id, j.rule_id, j.thing_id, j.kind, j.spec, j.attempts,
           (SELECT row_to_json(a) FROM (SELECT measurement, severity, message, value, threshold, raised_at, resolved_at
              FROM alerts WHERE id = j.alert_id) a) AS alert,
           (SELECT name FROM rules WHERE id = j.rule_id) AS rule_name`,
        [LEASE_MS / 1000],
      );
      if (rows.length === 0) return;
      await Promise.all(
        rows.map(async (raw) => {
          const alert = (raw as unknown as { alert: Record<string, unknown> | null }).alert;
          if (!alert) return;
          const job = {
            ...raw,
            ...alert,
            raised_at: new Date(alert.raised_at as string),
            resolved_at: alert.resolved_at ? new Date(alert.resolved_at as string) : null,
          } as Job;
          try {
            await record(job, { ok: true, ref: await carryOut(job) });
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            const final = err instanceof PermanentActionError || job.attempts + 1 >= MAX_ACTION_ATTEMPTS;
            logger.warn(
              { err, alertId: job.alert_id, kind: job.kind, attempts: job.attempts + 1, final },
              'alert action failed',
            );
            await record(job, { ok: false, error: error || 'failed', final }).catch((e: unknown) =>
              logger.warn({ err: e }, 'recording an alert action failure failed'),
            );
          }
        }),
      );
    }
  };

  const kick = () => {
    if (running) {
      again = true;
      return;
    }
    running = drain()
      .catch((err: unknown) => logger.warn({ err }, 'alert actions failed; retrying'))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          kick();
        }
      });
  };
  const timer = setInterval(kick, intervalMs);
  return {
    kick,
    async stop() {
      clearInterval(timer);
      await running;
      mailer?.close();
    },
  };
}
