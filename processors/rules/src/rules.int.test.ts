// The rules processor against real servers: nats-server, Postgres and an SMTP server, the
// processor in its own process (SIGKILLed and started again in the middle of a duration, and
// right between the commit of an alert and the ack of its reading).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '@telly/harness';
import { STREAMS } from '@telly/schemas';
import { v7 } from 'uuid';
import { RULES_MESSAGES } from './evaluator.ts';
import { KILL_AFTER_ALERT_COMMIT, type RulesTestStack, startRulesTestStack } from './testing/rules-stack.ts';

let t: RulesTestStack;

before(async () => {
  t = await startRulesTestStack('rules-test');
  await t.startChild();
});

after(() => t?.stop());

const alertsInEvents = async (alertId: string) => (await t.alertEvents(alertId)).map((e) => e.type);

test('a threshold held for a duration raises when the duration has passed, across a SIGKILL of the processor', async () => {
  const thing = v7();
  const ruleId = await t.createRule({
    name: 'greenhouse too hot',
    thingId: thing,
    measurement: 'temp',
    condition: { op: 'gt', value: 30, for: '4s' },
    severity: 'major',
    message: '{thing}: {name} is {value}, above {threshold}',
    actions: [{ email: { to: ['ops@example.com'] } }],
  });
  const t0 = await t.reading(thing, 'temp', 31);
  // the duration is running: its timer is durable
  await waitFor(
    async () =>
      (await t.stack.pool.query('SELECT 1 FROM rule_timers WHERE rule_id = $1', [ruleId])).rowCount === 1,
    { what: 'the timer stored' },
  );
  await t.killChild();
  await t.reading(thing, 'temp', 32, t0 + 1_000); // taken while the processor is down
  await t.startChild();
  const alert = await waitFor(async () => (await t.queries.alerts(t.tenant, { ruleId })).items[0], {
    what: 'the alert raised',
    timeoutMs: 15_000,
  });
  assert.equal(alert.raised_at.getTime(), t0 + 4_000, 'raised at the moment the duration passed');
  assert.equal(alert.status, 'open');
  // the value is the last one compared before the duration passed: 32 if that reading was in first
  assert.match(alert.message, new RegExp(`^${thing}: temp is 3[12], above 30$`));
  const mail = await waitFor(() => t.mailsFor(alert.id)[0], { what: 'the mail', timeoutMs: 15_000 });
  assert.deepEqual(mail.to, ['ops@example.com']);
  assert.match(mail.subject ?? '', /^\[MAJOR\] greenhouse too hot: /);
  assert.equal(mail.messageId, `<${alert.id}.raised.0@telly>`);

  // a crash after the alert was published but before the outbox row was deleted: it is published
  // again (as a restarted processor does) and JetStream keeps one; one alert, one mail
  await waitFor(async () => (await alertsInEvents(alert.id)).includes('alert.notified'), {
    what: 'notified',
  });
  const raised = await alertsInEvents(alert.id);
  await t.killChild();
  const raisedEvent = (await t.alertEvents(alert.id)).find((e) => e.type === 'alert.raised');
  await t.stack.pool.query('INSERT INTO rule_outbox (event) VALUES ($1)', [JSON.stringify(raisedEvent)]);
  await t.startChild();
  await waitFor(async () => (await t.stack.pool.query('SELECT 1 FROM rule_outbox')).rowCount === 0, {
    what: 'the outbox published again',
  });
  assert.deepEqual(await alertsInEvents(alert.id), raised, 'no second alert.raised in EVENTS');
  assert.equal((await t.queries.alerts(t.tenant, { ruleId })).totalCount, 1);
  assert.equal(t.mailsFor(alert.id).length, 1, 'one mail');

  // back below the threshold: resolved, and mailed once more
  await t.reading(thing, 'temp', 25);
  await waitFor(async () => (await t.queries.alert(t.tenant, alert.id))?.status === 'resolved', {
    what: 'resolved',
  });
  await waitFor(() => t.mailsFor(alert.id).length === 2, { what: 'the resolve mail' });
  assert.match(t.mailsFor(alert.id)[1]?.subject ?? '', /^\[RESOLVED\]/);
});

test('no data raises for a silent thing and resolves when it speaks; the webhook is called for both', async () => {
  const thing = v7();
  const ruleId = await t.createRule({
    name: 'silent',
    thingId: thing,
    measurement: 'moisture',
    condition: { op: 'no_data', for: '2s' },
    actions: [{ webhook: { url: t.hooks.url('/silent') } }],
  });
  const t0 = await t.reading(thing, 'moisture', 40);
  const alert = await waitFor(async () => (await t.queries.alerts(t.tenant, { ruleId })).items[0], {
    what: 'no data raised',
    timeoutMs: 10_000,
  });
  assert.equal(alert.raised_at.getTime(), t0 + 2_000);
  await t.reading(thing, 'moisture', 41);
  await waitFor(async () => (await t.queries.alert(t.tenant, alert.id))?.status === 'resolved', {
    what: 'resolved',
  });
  await waitFor(() => t.hooks.requests.filter((r) => r.path === '/silent').length === 2, {
    what: 'two webhooks',
  });
  const [raisedHook] = t.hooks.requests.filter((r) => r.path === '/silent');
  assert.equal(raisedHook?.headers['x-telly-delivery'], `${alert.id}.raised.0`);
  assert.equal(JSON.parse(raisedHook?.body ?? '{}').transition, 'raised');
  const actions = await t.queries.actions(t.tenant, alert.id);
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
  const ruleId = await t.createRule({
    name: 'pump pressure',
    thingId: thing,
    measurement: 'pressure',
    condition: { op: 'lt', value: 1 },
    severity: 'critical',
    actions: [{ email: { to: ['oncall@example.com'] } }],
  });
  await t.smtp.stop();
  const down = Date.now();
  await t.reading(thing, 'pressure', 0.4);
  const alert = await waitFor(async () => (await t.queries.alerts(t.tenant, { ruleId })).items[0], {
    what: 'raised',
  });
  const failing = await waitFor(
    async () => (await t.queries.actions(t.tenant, alert.id)).find((a) => a.status === 'retrying'),
    { what: 'the failed send on the alert' },
  );
  assert.match(failing.last_error ?? '', /ECONNREFUSED|connect/i);
  // the outage lasts 30 s; the notifier keeps trying meanwhile
  await waitFor(
    async () =>
      Date.now() - down >= 30_000 && ((await t.queries.actions(t.tenant, alert.id))[0]?.attempts ?? 0) >= 3,
    { what: '30 s of outage and several attempts', timeoutMs: 60_000, intervalMs: 500 },
  );
  assert.equal(t.mailsFor(alert.id).length, 0);
  await t.smtp.start();
  await waitFor(() => t.mailsFor(alert.id).length === 1, {
    what: 'the mail after the outage',
    timeoutMs: 20_000,
  });
  await waitFor(async () => (await t.queries.actions(t.tenant, alert.id))[0]?.status === 'sent', {
    what: 'sent',
  });
  assert.equal(t.mailsFor(alert.id).length, 1, 'once');
});

test('a SIGKILL right after the commit of an alert and before the ack of its reading: one alert, one mail', async () => {
  await t.killChild();
  // this process kills itself as soon as a batch that raised an alert has committed
  const armed = await t.startChild({ [KILL_AFTER_ALERT_COMMIT]: RULES_MESSAGES });
  const died = new Promise<NodeJS.Signals | null>((resolve) =>
    armed.once('exit', (_, signal) => resolve(signal)),
  );
  const thing = v7();
  const ruleId = await t.createRule({
    name: 'freezer warm',
    thingId: thing,
    measurement: 'temp',
    condition: { op: 'gt', value: -10 },
    severity: 'critical',
    actions: [{ email: { to: ['cold-chain@example.com'] } }],
  });
  const before = await t.stack.jsm.consumers.info(STREAMS.MESSAGES.name, RULES_MESSAGES);
  await t.reading(thing, 'temp', -4);
  assert.equal(await died, 'SIGKILL');
  // the decision is committed (the outbox holds it), the reading is not acked, nothing is published
  const { rows } = await t.stack.pool.query<{ id: string }>(
    `SELECT event->'data'->>'alertId' AS id FROM rule_outbox WHERE event->>'type' = 'alert.raised' AND event->'data'->>'ruleId' = $1`,
    [ruleId],
  );
  assert.equal(rows.length, 1, 'the alert committed');
  const alertId = rows[0]!.id;
  const unacked = await t.stack.jsm.consumers.info(STREAMS.MESSAGES.name, RULES_MESSAGES);
  assert.equal(unacked.ack_floor.stream_seq, before.ack_floor.stream_seq, 'the reading not acked');
  assert.deepEqual(await alertsInEvents(alertId), [], 'nothing published yet');

  // started again, without the hook: the reading is redelivered, evaluated nothing twice
  await t.startChild();
  await waitFor(() => t.mailsFor(alertId).length === 1, { what: 'the mail', timeoutMs: 15_000 });
  await waitFor(async () => (await alertsInEvents(alertId)).includes('alert.notified'), {
    what: 'notified',
  });
  await waitFor(
    async () =>
      (await t.stack.jsm.consumers.info(STREAMS.MESSAGES.name, RULES_MESSAGES)).ack_floor.stream_seq >
      before.ack_floor.stream_seq,
    { what: 'the redelivered reading acked' },
  );
  const types = await alertsInEvents(alertId);
  assert.equal(types.filter((type) => type === 'alert.raised').length, 1, 'one alert.raised in EVENTS');
  assert.equal((await t.queries.alerts(t.tenant, { ruleId })).totalCount, 1, 'one alert');
  assert.equal(t.mailsFor(alertId).length, 1, 'one mail');
});

test('hysteresis: readings wandering between the clear value and the threshold neither resolve nor raise again', async () => {
  const thing = v7();
  const ruleId = await t.createRule({
    name: 'hot, with a clear value',
    thingId: thing,
    measurement: 'temp',
    condition: { op: 'gt', value: 30, clearValue: 25 },
  });
  const t0 = Date.now() - 60_000;
  for (const [i, v] of [31, 29, 31, 28, 30.5, 26].entries())
    await t.reading(thing, 'temp', v, t0 + i * 1_000);
  const open = await waitFor(async () => (await t.queries.alerts(t.tenant, { ruleId })).items[0], {
    what: 'the alert raised',
  });
  await t.reading(thing, 'temp', 24, t0 + 6_000);
  await waitFor(async () => (await t.queries.alert(t.tenant, open.id))?.status === 'resolved', {
    what: 'resolved below the clear value',
  });
  const { items } = await t.queries.alerts(t.tenant, { ruleId });
  assert.equal(items.length, 1, 'one alert for the whole excursion');
  assert.equal(items[0]!.raised_at.getTime(), t0, 'raised by the first reading over 30');
  assert.equal(items[0]!.resolved_at?.getTime(), t0 + 6_000, 'resolved by the first reading under 25');
  const types = (await t.alertEvents(open.id)).map((e) => e.type);
  assert.deepEqual(
    types.filter((type) => type === 'alert.raised' || type === 'alert.resolved'),
    ['alert.raised', 'alert.resolved'],
  );
});
