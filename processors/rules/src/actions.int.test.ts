// A rule's actions against real servers (nats-server with its message schedules, Postgres, an
// SMTP server, a webhook receiver), the processor in its own process: the cooldown between
// notifications, the webhook's signature and its retried delivery, a timed command.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, test } from 'node:test';
import { CommandQueries, requestedProjection, scheduledProjection, statusProjection } from '@telly/commands';
import { waitFor } from '@telly/harness';
import { v7 } from 'uuid';
import type { AlertRow } from './queries.ts';
import { type RulesTestStack, startRulesTestStack } from './testing/rules-stack.ts';

let t: RulesTestStack;
let commands: CommandQueries;

before(async () => {
  t = await startRulesTestStack('rules-actions-test');
  // the commands read model, as the commands component keeps it
  await t.stack.run(requestedProjection(t.stack.pool));
  await t.stack.run(statusProjection(t.stack.pool));
  await t.stack.run(scheduledProjection(t.stack.pool));
  commands = new CommandQueries(t.stack.pool);
  await t.startChild();
});

after(() => t?.stop());

/** The rule's alerts once there are `n`, oldest first. */
async function alertsOf(ruleId: string, n: number): Promise<AlertRow[]> {
  return waitFor(
    async () => {
      const { items } = await t.queries.alerts(t.tenant, { ruleId });
      return items.length === n
        ? items.sort((a, b) => a.raised_at.getTime() - b.raised_at.getTime())
        : undefined;
    },
    { what: `${n} alerts` },
  );
}

const actionsOf = async (alertId: string) =>
  (await t.queries.actions(t.tenant, alertId)).map((a) => [a.transition, a.kind, a.status]);

test('a cooldown: an alert raised within it of the last notified one notifies nothing, raise or resolve', async () => {
  const thing = v7();
  const ruleId = await t.createRule({
    name: 'door open',
    thingId: thing,
    measurement: 'door',
    condition: { op: 'gt', value: 0 },
    cooldown: '1m',
    actions: [{ email: { to: ['facilities@example.com'] } }],
  });
  // readings of the past, stamped by the device: the cooldown counts in their time
  const t0 = Date.now() - 10 * 60_000;
  for (const [dt, v] of [
    [0, 1], // A raised: notified
    [10_000, 0], // A resolved: notified
    [40_000, 1], // B raised 40 s after A: suppressed
    [50_000, 0], // B resolved: suppressed with it
    [70_000, 1], // C raised 70 s after A, the last notified one (B was 30 s before): notified
  ] as const) {
    await t.reading(thing, 'door', v, t0 + dt);
  }
  const [a, b, c] = await alertsOf(ruleId, 3);
  assert.deepEqual(
    [a, b, c].map((x) => x!.raised_at.getTime() - t0),
    [0, 40_000, 70_000],
  );
  await waitFor(() => t.mailsFor(c!.id).length === 1, { what: 'the mail of C' });
  await waitFor(() => t.mailsFor(a!.id).length === 2, { what: 'the mails of A' });
  assert.deepEqual(
    t
      .mailsFor(a!.id)
      .map((m) => m.subject?.slice(0, 10))
      .sort(),
    ['[RESOLVED]', '[WARNING] '],
  );
  assert.equal(t.mailsFor(b!.id).length, 0, 'no mail of B');
  assert.deepEqual(await actionsOf(b!.id), [
    ['raised', 'email', 'suppressed'],
    ['resolved', 'email', 'suppressed'],
  ]);
  await waitFor(async () => JSON.stringify(await actionsOf(c!.id)) === '[["raised","email","sent"]]', {
    what: 'C notified',
  });
});

test('a signed webhook: the signature verifies with the secret, and a retry is the same delivery', async () => {
  const thing = v7();
  const secret = 'whsec-greenhouse-0123456789';
  const ruleId = await t.createRule({
    name: 'tank low',
    thingId: thing,
    measurement: 'level',
    condition: { op: 'lt', value: 20 },
    severity: 'major',
    actions: [{ webhook: { url: t.hooks.url('/signed'), secret } }],
  });
  const received = () => t.hooks.requests.filter((r) => r.path === '/signed');
  t.hooks.status = 500; // the receiver fails the first attempt
  await t.reading(thing, 'level', 12);
  await waitFor(() => received().length === 1, { what: 'the first attempt' });
  t.hooks.status = 200;
  await waitFor(() => received().length === 2, { what: 'the retry', timeoutMs: 10_000 });
  const [alert] = await alertsOf(ruleId, 1);
  for (const hook of received()) {
    assert.equal(hook.headers['x-telly-delivery'], `${alert!.id}.raised.0`, 'one delivery id');
    // what a receiver does: HMAC-SHA256 of the raw body with the secret, hex, compared in constant time
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(hook.body).digest('hex')}`);
    const signature = Buffer.from(String(hook.headers['x-telly-signature']));
    assert.ok(
      signature.length === expected.length && timingSafeEqual(signature, expected),
      'the signature verifies',
    );
    assert.deepEqual(JSON.parse(hook.body), {
      alertId: alert!.id,
      transition: 'raised',
      ruleId,
      rule: 'tank low',
      thingId: thing,
      measurement: 'level',
      value: 12,
      threshold: 20,
      severity: 'major',
      message: alert!.message,
      raisedAt: alert!.raised_at.toISOString(),
      resolvedAt: null,
    });
  }
  assert.equal(received()[0]!.body, received()[1]!.body, 'the same body on every attempt');
  // one delivery on the alert: sent on the second attempt
  const actions = await waitFor(
    async () => {
      const rows = await t.queries.actions(t.tenant, alert!.id);
      return rows[0]?.status === 'sent' ? rows : undefined;
    },
    { what: 'sent' },
  );
  assert.deepEqual(
    actions.map((x) => [x.transition, x.kind, x.status, x.attempts, x.ref, x.last_error]),
    [['raised', 'webhook', 'sent', 2, '200', null]],
  );
  const events = await t.alertEvents(alert!.id);
  assert.deepEqual(
    events.map((e) => e.type),
    ['alert.raised', 'alert.notification-failed', 'alert.notified'],
  );
  // a signature made with another secret does not verify
  const forged = `sha256=${createHmac('sha256', 'not-the-secret-at-all').update(received()[0]!.body).digest('hex')}`;
  assert.notEqual(received()[0]!.headers['x-telly-signature'], forged);
});

test('a command action: a timed command through the command path when the rule raises, reverted after its duration', async () => {
  const [sensor, pump] = [v7(), v7()];
  const ruleId = await t.createRule({
    name: 'soil dry',
    thingId: sensor,
    measurement: 'moisture',
    condition: { op: 'lt', value: 30, clearValue: 35 },
    actions: [
      {
        command: {
          thingId: pump,
          name: 'pump',
          payload: { on: true },
          duration: '2s',
          revertPayload: { on: false },
        },
      },
    ],
  });
  await t.reading(sensor, 'moisture', 22);
  const [alert] = await alertsOf(ruleId, 1);
  const [action] = await waitFor(
    async () => {
      const rows = await t.queries.actions(t.tenant, alert!.id);
      return rows[0]?.status === 'sent' ? rows : undefined;
    },
    { what: 'the command sent' },
  );
  assert.equal(action!.kind, 'command');
  const commandId = action!.ref!;
  // the command in the commands read model, as sendCommand's are
  const command = await waitFor(() => commands.command(t.tenant, commandId), {
    what: 'the command recorded',
  });
  assert.equal(command.thing_id, pump);
  assert.equal(command.name, 'pump');
  assert.deepEqual(command.payload, { on: true });
  assert.equal(command.status, 'pending');
  const revert = await waitFor(() => commands.revertOf(t.tenant, commandId), {
    what: 'its revert scheduled',
  });
  assert.equal(revert.status, 'scheduled');
  assert.deepEqual(revert.payload, { on: false });
  const revertAt = revert.scheduled_for!.getTime();
  const sentAt = command.requested_at!.getTime();
  assert.ok(revertAt >= sentAt + 2_000 && revertAt <= sentAt + 3_000, 'two seconds later, rounded up');
  // the server sends the revert at its time
  await waitFor(async () => (await commands.command(t.tenant, revert.id))?.status === 'pending', {
    what: 'the revert sent',
    timeoutMs: 10_000,
  });
  assert.ok(Date.now() >= revertAt, 'not before its time');

  // the resolve sends no second command: the pump is not switched on again
  await t.reading(sensor, 'moisture', 40);
  await waitFor(async () => (await t.queries.alert(t.tenant, alert!.id))?.status === 'resolved', {
    what: 'resolved',
  });
  assert.deepEqual(await actionsOf(alert!.id), [['raised', 'command', 'sent']]);
  const { items } = await commands.list(t.tenant, pump, {});
  assert.deepEqual(
    items.map((c) => c.id).sort(),
    [commandId, revert.id].sort(),
    'the command and its revert',
  );
});

test('a command on RESOLVED: the LED on when the alert is raised, off when it resolves', async () => {
  const [sensor, led] = [v7(), v7()];
  const ruleId = await t.createRule({
    name: 'too hot',
    thingId: sensor,
    measurement: 'temp',
    condition: { op: 'gt', value: 30 },
    actions: [
      { command: { thingId: led, name: 'led', payload: 'ON' } },
      { command: { thingId: led, name: 'led', payload: 'OFF', on: 'RESOLVED' } },
    ],
  });
  await t.reading(sensor, 'temp', 35);
  const [alert] = await alertsOf(ruleId, 1);
  await waitFor(async () => (await actionsOf(alert!.id)).length === 1, { what: 'the raise queued' });
  await t.reading(sensor, 'temp', 20);
  const actions = await waitFor(
    async () => {
      const rows = await actionsOf(alert!.id);
      return rows.length === 2 && rows.every(([, , status]) => status === 'sent') ? rows : undefined;
    },
    { what: 'both commands sent' },
  );
  assert.deepEqual(actions, [
    ['raised', 'command', 'sent'],
    ['resolved', 'command', 'sent'],
  ]);
  // sent is requested: the commands read model shows each once it projected the request
  const items = await waitFor(
    async () => {
      const page = await commands.list(t.tenant, led, {});
      return page.items.length === 2 ? page.items : undefined;
    },
    { what: 'both commands recorded' },
  );
  assert.deepEqual(items.map((c) => c.payload).sort(), ['OFF', 'ON'], 'ON on the raise, OFF on the resolve');
});
