// Test support: real servers for the rules processor's tests (nats-server, Postgres, an SMTP
// server, a webhook receiver) and the processor in a child process of its own, so a test can
// SIGKILL it and start it again.
import { type ChildProcess, fork } from 'node:child_process';
import { jetstream } from '@nats-io/jetstream';
import { commandsMigrations } from '@telly/commands';
import { SmtpCapture, WebhookReceiver, waitFor } from '@telly/harness';
import { Publisher } from '@telly/runtime';
import { type RuntimeTestStack, startRuntimeTestStack } from '@telly/runtime/testing';
import {
  createEvent,
  decodeEvent,
  messageSubject,
  type RuleDefinition,
  STREAMS,
  type TellyEvent,
} from '@telly/schemas';
import { v7 } from 'uuid';
import { ruleDecider } from '../domain/decider.ts';
import { type RuleInput, validateRule } from '../domain/validate.ts';
import { rulesMigrations } from '../migrations.ts';
import { RuleQueries } from '../queries.ts';

export { KILL_AFTER_ALERT_COMMIT } from './kill-after-commit.ts';

export interface RulesTestStack {
  stack: RuntimeTestStack;
  smtp: SmtpCapture;
  hooks: WebhookReceiver;
  publisher: Publisher;
  queries: RuleQueries;
  /** The tenant every rule and reading of the stack belongs to. */
  tenant: string;
  channel: string;
  /** The running processor, if any. */
  readonly child: ChildProcess | undefined;
  /** Starts the processor in a child process; resolves once it runs. */
  startChild(env?: Record<string, string>): Promise<ChildProcess>;
  /** SIGKILLs the processor (if it still runs) and waits for it to exit. */
  killChild(): Promise<void>;
  /** Creates a rule the way the API does: its secrets stored, then its decider's event appended. */
  createRule(input: RuleInput): Promise<string>;
  /** A device reading, as a bridge appends it (resolved SenML, absolute time); returns its time. */
  reading(thing: string, name: string, v: number, timeMs?: number): Promise<number>;
  /** The mails of an alert (their Message-ID names it). */
  mailsFor(alertId: string): SmtpCapture['mails'];
  /** The events in EVENTS about an alert, in order. */
  alertEvents(alertId: string): Promise<TellyEvent[]>;
  stop(): Promise<void>;
}

export async function startRulesTestStack(name: string): Promise<RulesTestStack> {
  const stack = await startRuntimeTestStack({ name, migrations: [rulesMigrations, commandsMigrations] });
  const smtp = await SmtpCapture.start();
  const hooks = await WebhookReceiver.start();
  const publisher = new Publisher(jetstream(stack.nc));
  const queries = new RuleQueries(stack.pool);
  const tenant = v7();
  const channel = v7();
  let child: ChildProcess | undefined;

  const startChild = async (env: Record<string, string> = {}) => {
    const proc = fork(new URL('./rules-child.ts', import.meta.url), {
      env: {
        ...process.env,
        NATS_URL: stack.nats.url,
        DATABASE_URL: stack.db.url,
        TELLY_SMTP_URL: smtp.url,
        TELLY_MAIL_FROM: 'Telly <alerts@telly.test>',
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      proc.once('message', () => resolve());
      proc.once('exit', (code) => reject(new Error(`the rules process exited with ${code}`)));
    });
    child = proc;
    return proc;
  };

  const killChild = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };

  const createRule = async (input: RuleInput) => {
    const ruleId = v7();
    const def: RuleDefinition = validateRule(input);
    for (const [i, action] of (input.actions ?? []).entries()) {
      if (action.webhook?.secret) await queries.setWebhookSecret(ruleId, i, action.webhook.secret);
    }
    const [draft] = ruleDecider.decide(
      { type: 'create', ruleId, def, enabled: true },
      ruleDecider.initialState(),
    );
    const event = createEvent(draft!.type, { tenantId: tenant, data: draft!.data } as never, {
      id: v7(),
      now: Date.now(),
    });
    const ack = await publisher.publishEvent(event);
    await waitFor(() => queries.applied(ack.seq), { what: 'the rule projected' });
    return ruleId;
  };

  const reading = async (thing: string, name: string, v: number, timeMs = Date.now()) => {
    await publisher.publish(
      messageSubject({ tenant, channel, thing }),
      JSON.stringify([{ n: name, v, t: timeMs / 1000 }]),
      {
        msgId: v7(),
        headers: {
          'Content-Type': 'application/senml+json',
          'Telly-Received': String(Date.now()),
          'Telly-Protocol': 'http',
        },
      },
    );
    return timeMs;
  };

  const alertEvents = async (alertId: string) => {
    const events: TellyEvent[] = [];
    const info = await stack.jsm.streams.info(STREAMS.EVENTS.name);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await stack.jsm.streams.getMessage(STREAMS.EVENTS.name, { seq }).catch(() => undefined);
      if (!m) continue;
      const e = decodeEvent(m.data);
      if ('alertId' in e.data && e.data.alertId === alertId) events.push(e);
    }
    return events;
  };

  return {
    stack,
    smtp,
    hooks,
    publisher,
    queries,
    tenant,
    channel,
    get child() {
      return child;
    },
    startChild,
    killChild,
    createRule,
    reading,
    mailsFor: (alertId) => smtp.mails.filter((m) => m.messageId?.includes(alertId)),
    alertEvents,
    async stop() {
      await killChild();
      await hooks.stop();
      await smtp.stop();
      await stack.stop();
    },
  };
}
