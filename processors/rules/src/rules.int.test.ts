// The rules processor against real servers: nats-server, Postgres and an SMTP server, the
// processor in its own process (SIGKILLed and started again in the middle of a duration).
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { after, before, test } from 'node:test';
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
import { ruleDecider } from './domain/decider.ts';
import { type RuleInput, validateRule } from './domain/validate.ts';
import { rulesMigrations } from './migrations.ts';
import { RuleQueries } from './queries.ts';

let stack: RuntimeTestStack;
let smtp: SmtpCapture;
let hooks: WebhookReceiver;
let publisher: Publisher;
let queries: RuleQueries;
let child: ChildProcess | undefined;
const tenant = v7();
const channel = v7();

async function startChild(): Promise<void> {
  const proc = fork(new URL('./testing/rules-child.ts', import.meta.url), {
    env: {
      ...process.env,
      NATS_URL: stack.nats.url,
      DATABASE_URL: stack.db.url,
      TELLY_SMTP_URL: smtp.url,
      TELLY_MAIL_FROM: 'Telly <alerts@telly.test>',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    proc.once('message', () => resolve());
    proc.once('exit', (code) => reject(new Error(`the rules process exited with ${code}`)));
  });
  child = proc;
}

async function killChild(): Promise<void> {
  const proc = child;
  child = undefined;
  if (!proc || proc.exitCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
}

before(async () => {
  stack = await startRuntimeTestStack({
    name: 'rules-test',
    migrations: [rulesMigrations, commandsMigrations],
  });
  smtp = await SmtpCapture.start();
  hooks = await WebhookReceiver.start();
  publisher = new Publisher(jetstream(stack.nc));
  queries = new RuleQueries(stack.pool);
  await startChild();
});

after(async () => {
  await killChild();
  await hooks?.stop();
  await smtp?.stop();
  await stack?.stop();
});

/** Creates a rule the way the API does: its decider's event, appended to REGISTRY. */
async function createRule(input: RuleInput): Promise<string> {
  const ruleId = v7();
  const def: RuleDefinition = validateRule(input);
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
}

/** A device reading, as a bridge appends it (resolved SenML, absolute time). */
async function reading(thing: string, name: string, v: number, timeMs = Date.now()): Promise<number> {
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
}

const mailsFor = (alertId: string) => smtp.mails.filter((m) => m.messageId?.includes(alertId));

async function alertsInEvents(alertId: string): Promise<string[]> {
  return (await alertEvents(alertId)).map((e) => e.type);
}

async function alertEvents(alertId: string): Promise<TellyEvent[]> {
  const jsm = stack.jsm;
  const types: TellyEvent[] = [];
  const info = await jsm.streams.info(STREAMS.EVENTS.name);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(STREAMS.EVENTS.name, { seq }).catch(() => undefined);
    if (!m) continue;
    const e = decodeEvent(m.data);
    if ('alertId' in e.data && e.data.alertId === alertId) types.push(e);
  }
  return types;
}

test('a threshold held for a duration raises when the duration has passed, across a SIGKILL of the processor', async () => {
  const thing = v7();
  const ruleId = await createRule({
    name: 'greenhouse too hot',
    thingId: thing,
    measurement: 'temp',
    condition: { op: 'gt', value: 30, for: '4s' },
    severity: 'major',
    message: '{thing}: {name} is {value}, above {threshold}',
    actions: [{ email: { to: ['ops@example.com'] } }],
  });
  const t0 = await reading(thing, 'temp', 31);
  // the duration is running: its timer is durable
  await waitFor(
    async () =>
      (await stack.pool.query('SELECT 1 FROM rule_timers WHERE rule_id = $1', [ruleId])).rowCount === 1,
    { what: 'the timer stored' },
  );
  await killChild();
  await reading(thing, 'temp', 32, t0 + 1_000); // taken while the processor is down
  await startChild();
  const alert = await waitFor(async () => (await queries.alerts(tenant, { ruleId })).items[0], {
    what: 'the alert raised',
    timeoutMs: 15_000,
  });
  assert.equal(alert.raised_at.getTime(), t0 + 4_000, 'raised at the moment the duration passed');
  assert.equal(alert.status, 'open');
  // the value is the last one compared before the duration passed: 32 if that reading was in first
  assert.match(alert.message, new RegExp(`^${thing}: temp is 3[12], above 30$`));
  const mail = await waitFor(() => mailsFor(alert.id)[0], { what: 'the mail', timeoutMs: 15_000 });
  assert.deepEqual(mail.to, ['ops@example.com']);
  assert.match(mail.subject ?? '', /^\[MAJOR\] greenhouse too hot: /);
  assert.equal(mail.messageId, `<${alert.id}.raised.0@telly>`);

  // a crash after the alert was published but before the outbox row was deleted: it is published
  // again (as a restarted processor does) and JetStream keeps one; one alert, one mail
  await waitFor(async () => (await alertsInEvents(alert.id)).includes('alert.notified'), {
    what: 'notified',
  });
  const raised = await alertsInEvents(alert.id);
  await killChild();
  const raisedEvent = (await alertEvents(alert.id)).find((e) => e.type === 'alert.raised');
  await stack.pool.query('INSERT INTO rule_outbox (event) VALUES ($1)', [JSON.stringify(raisedEvent)]);
  await startChild();
  await waitFor(async () => (await stack.pool.query('SELECT 1 FROM rule_outbox')).rowCount === 0, {
    what: 'the outbox published again',
  });
  assert.deepEqual(await alertsInEvents(alert.id), raised, 'no second alert.raised in EVENTS');
  assert.equal((await queries.alerts(tenant, { ruleId })).totalCount, 1);
  assert.equal(mailsFor(alert.id).length, 1, 'one mail');

  // back below the threshold: resolved, and mailed once more
  await reading(thing, 'temp', 25);
  await waitFor(async () => (await queries.alert(tenant, alert.id))?.status === 'resolved', {
    what: 'resolved',
  });
  await waitFor(() => mailsFor(alert.id).length === 2, { what: 'the resolve mail' });
  assert.match(mailsFor(alert.id)[1]?.subject ?? '', /^\[RESOLVED\]/);
});

test('no data raises for a silent thing and resolves when it speaks; the webhook is called for both', async () => {
  const thing = v7();
  const ruleId = await createRule({
    name: 'silent',
    thingId: thing,
    measurement: 'moisture',
    condition: { op: 'no_data', for: '2s' },
    actions: [{ webhook: { url: hooks.url('/silent') } }],
  });
  const t0 = await reading(thing, 'moisture', 40);
  const alert = await waitFor(async () => (await queries.alerts(tenant, { ruleId })).items[0], {
    what: 'no data raised',
    timeoutMs: 10_000,
  });
  assert.equal(alert.raised_at.getTime(), t0 + 2_000);
  await reading(thing, 'moisture', 41);
  await waitFor(async () => (await queries.alert(tenant, alert.id))?.status === 'resolved', {
    what: 'resolved',
  });
  await waitFor(() => hooks.requests.filter((r) => r.path === '/silent').length === 2, {
    what: 'two webhooks',
  });
  const [raisedHook] = hooks.requests.filter((r) => r.path === '/silent');
  assert.equal(raisedHook?.headers['x-telly-delivery'], `${alert.id}.raised.0`);
  assert.equal(JSON.parse(raisedHook?.body ?? '{}').transition, 'raised');
  const actions = await queries.actions(tenant, alert.id);
  assert.deepEqual(
    actions.map((a) => [a.transition, a.kind, a.status, a.ref]),
    [
      ['raised', 'webhook', 'sent', '200'],
      ['resolved', 'webhook', 'sent', '200'],
    ],
  );
});

test('an SMTP outage of 30 s: the failure is visible on the alert, and the mail arrives once afterwards', async () => {
  const thing = v7();
  const ruleId = await createRule({
    name: 'pump pressure',
    thingId: thing,
    measurement: 'pressure',
    condition: { op: 'lt', value: 1 },
    severity: 'critical',
    actions: [{ email: { to: ['oncall@example.com'] } }],
  });
  await smtp.stop();
  const down = Date.now();
  await reading(thing, 'pressure', 0.4);
  const alert = await waitFor(async () => (await queries.alerts(tenant, { ruleId })).items[0], {
    what: 'raised',
  });
  const failing = await waitFor(
    async () => (await queries.actions(tenant, alert.id)).find((a) => a.status === 'retrying'),
    { what: 'the failed send on the alert' },
  );
  assert.match(failing.last_error ?? '', /ECONNREFUSED|connect/i);
  // the outage lasts 30 s; the notifier keeps trying meanwhile
  await waitFor(
    async () =>
      Date.now() - down >= 30_000 && ((await queries.actions(tenant, alert.id))[0]?.attempts ?? 0) >= 3,
    { what: '30 s of outage and several attempts', timeoutMs: 60_000, intervalMs: 500 },
  );
  assert.equal(mailsFor(alert.id).length, 0);
  await smtp.start();
  await waitFor(() => mailsFor(alert.id).length === 1, {
    what: 'the mail after the outage',
    timeoutMs: 20_000,
  });
  await waitFor(async () => (await queries.actions(tenant, alert.id))[0]?.status === 'sent', {
    what: 'sent',
  });
  assert.equal(mailsFor(alert.id).length, 1, 'once');
});
