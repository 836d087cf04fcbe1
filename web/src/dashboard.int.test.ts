// The dashboard in Debian's Chromium against a real `telly up`: what a person does, checked on
// the DOM and against the API's own answers, devices played by mosquitto_pub / mosquitto_sub.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Platform, startPlatform } from '@telly/deploy/testing';
import { waitFor } from '@telly/harness';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import QRCode from 'qrcode';
import { QR_OPTIONS } from './app/credentials-payload.ts';
import { assertAccessible, launchChromium, screenshot, watchErrors } from './testing/browser.ts';

const run = promisify(execFile);
const EMAIL = 'ana@example.com';
/** Every component of `telly up` starts one after the other: on a loaded 2-core machine, minutes. */
const STARTUP = { healthyWithinMs: 180_000 };
const PASSWORD = 'correct horse battery staple';

let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let pageErrors: string[];
/** What the flow learns as it goes. */
const seen: { channelId?: string; thingId?: string; key?: string; tenantId?: string } = {};
const devices: ChildProcess[] = [];

const mqtt = (...args: string[]) => ['-h', '127.0.0.1', '-p', String(platform.ports.mqtt), ...args];
/** One QoS 1 publish as the thing; resolves once PUBACKed (the message is in the log). */
const publish = (topic: string, message: string) =>
  run('mosquitto_pub', mqtt('-q', '1', '-u', seen.thingId!, '-P', seen.key!, '-t', topic, '-m', message), {
    timeout: 10_000,
  });
const publishTemperature = (v: number) =>
  publish(`channels/${seen.channelId}/messages`, JSON.stringify([{ n: 'temperature', u: 'Cel', v }]));

async function token(): Promise<string> {
  const { login } = await platform.gql<{ login: { accessToken: string } }>(
    'mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }',
    { e: EMAIL, p: PASSWORD },
  );
  return login.accessToken;
}

let dataDir: string;

before(async () => {
  // our own data dir: the platform restarts on it with an operator tenant (last test)
  dataDir = await mkdtemp(join(tmpdir(), 'telly-web-'));
  [platform, browser] = await Promise.all([
    startPlatform({ TELLY_DATA_DIR: dataDir }, STARTUP),
    launchChromium(),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  pageErrors = watchErrors(page);
});
afterEach(async (t) => {
  // what the page showed when a test failed
  if (!(t as { passed?: boolean }).passed)
    await screenshot(page, `failed-${t.name.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => {});
});
after(async () => {
  for (const d of devices) d.kill();
  await browser?.close();
  await platform?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the dashboard, from sign-up to a command', () => {
  it('serves the app at / with compressed, immutable assets', async () => {
    const res = await fetch(`${platform.apiUrl}/`, { headers: { 'accept-encoding': 'br' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-encoding'), 'br');
    const html = await res.text();
    const script = html.match(/src="(\/assets\/main-[A-Z0-9]+\.js)"/)?.[1];
    assert.ok(script, html);
    const asset = await fetch(`${platform.apiUrl}${script}`);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  });

  it('signs up by keyboard alone and lands on the things page', async () => {
    await page.goto(`${platform.apiUrl}/`);
    await page.getByRole('heading', { name: 'Log in to Telly' }).waitFor();
    await assertAccessible(page, 'the login page');
    await screenshot(page, '01-login');
    await page.getByRole('link', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Sign up' }).waitFor();
    await assertAccessible(page, 'the sign-up page');
    // a weak password is refused in words, nothing created
    await page.getByLabel('Email').focus();
    await page.keyboard.type(EMAIL);
    await page.keyboard.press('Tab');
    await page.keyboard.type('password12');
    await page.keyboard.press('Tab');
    await page.keyboard.type('greenhouse');
    await page.keyboard.press('Enter');
    const refusal = await page.getByRole('alert').textContent();
    assert.match(refusal!, /password/i);
    assert.doesNotMatch(refusal!, /WEAK_PASSWORD/);
    await page.getByLabel(/^Password/).fill('');
    await page.getByLabel(/^Password/).focus();
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Things' }).waitFor();
    assert.match(
      (await page.locator('header .who').textContent())!,
      /ana@example\.com · greenhouse \(owner\)/,
    );
    await assertAccessible(page, 'the things page');
  });

  it('creates a channel', async () => {
    await page.getByRole('link', { name: 'Channels' }).click();
    await page.getByRole('heading', { name: 'Channels' }).waitFor();
    await assertAccessible(page, 'the channels page');
    await page.getByText('New channel').click();
    await page.getByLabel('Name', { exact: true }).fill('greenhouse-1');
    await page.getByRole('button', { name: 'Create channel' }).click();
    await page.getByRole('heading', { name: 'greenhouse-1' }).waitFor();
    seen.channelId = (await page.getByTestId('channel-id').textContent())!;
    const { channel } = await platform.gql<{ channel: { name: string } }>(
      'query($id: ID!) { channel(id: $id) { name } }',
      { id: seen.channelId },
      await token(),
    );
    assert.equal(channel.name, 'greenhouse-1');
    await assertAccessible(page, 'a channel page');
    await screenshot(page, '02-channel');
  });

  it('creates a thing, connects it, and shows its credentials as a QR code that carries them', async () => {
    await page.getByRole('link', { name: 'Things' }).click();
    await page.getByText('New thing').click();
    await page.getByLabel('Name', { exact: true }).fill('soil-1');
    await page.getByRole('button', { name: 'Create thing' }).click();
    await page.getByRole('heading', { name: 'Credentials of soil-1' }).waitFor();
    await page.getByRole('button', { name: 'Open soil-1' }).click();
    await page.getByRole('heading', { name: 'soil-1' }).waitFor();
    await page.getByLabel('Connect to channel').selectOption({ label: 'greenhouse-1' });
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByRole('link', { name: 'greenhouse-1' }).waitFor();
    // rotate: a new key, the QR code now naming the channel
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Rotate key and show QR code' }).click();
    const payloadText = (await page.getByTestId('qr-payload').textContent())!;
    const payload = JSON.parse(payloadText) as Record<string, unknown>;
    seen.thingId = (await page.getByTestId('thing-id').textContent())!;
    seen.key = (await page.getByTestId('thing-key').textContent())!;
    assert.deepEqual(payload, {
      thing: seen.thingId,
      key: seen.key,
      channels: [seen.channelId],
      mqtt: `mqtt://127.0.0.1:${platform.ports.mqtt}`,
      http: `http://127.0.0.1:${platform.ports.http}`,
    });
    // scan-free: the drawn code is exactly the code of that payload (the encoder is deterministic)
    const modules = (svg: string) => svg.match(/stroke="#000000" d="([^"]+)"/)?.[1];
    const drawn = modules(await page.locator('.qr').innerHTML());
    assert.ok(drawn);
    assert.equal(drawn, modules(await QRCode.toString(payloadText, QR_OPTIONS)));
    const { thing } = await platform.gql<{ thing: { name: string; channels: { nodes: { id: string }[] } } }>(
      'query($id: ID!) { thing(id: $id) { name channels { nodes { id } } } }',
      { id: seen.thingId },
      await token(),
    );
    assert.deepEqual(thing, { name: 'soil-1', channels: { nodes: [{ id: seen.channelId }] } });
    await assertAccessible(page, 'a thing page with its QR code');
    await screenshot(page, '03-thing-qr');
  });

  it('renames inline: unchanged, name taken, saved', async () => {
    await platform.gql('mutation { createThing(input: { name: "soil-2" }) { key } }', {}, await token());
    const name = page.getByRole('textbox', { name: 'Name', exact: true });
    const rename = page.getByRole('button', { name: 'Rename' });
    await rename.click();
    await page.getByRole('status').filter({ hasText: 'Unchanged' }).waitFor();
    await name.fill('soil-2');
    await rename.click();
    await page.getByRole('status').filter({ hasText: 'Name taken' }).waitFor();
    await name.fill('soil-north');
    await rename.click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await page.getByRole('heading', { name: 'soil-north' }).waitFor();
    const { thing } = await platform.gql<{ thing: { name: string } }>(
      'query($id: ID!) { thing(id: $id) { name } }',
      { id: seen.thingId },
      await token(),
    );
    assert.equal(thing.name, 'soil-north');
  });

  it('plots a value published with mosquitto_pub live, within a second', async () => {
    await page.getByRole('link', { name: 'Data', exact: true }).click();
    await page.getByRole('heading', { name: 'Data of soil-north' }).waitFor();
    const chart = page.getByTestId('chart-temperature');
    // the subscription starts with the page: publish until the first value shows
    await waitFor(
      async () => {
        await publishTemperature(21.5);
        return (await chart.getAttribute('data-last-value', { timeout: 2_000 }).catch(() => null)) === '21.5';
      },
      { timeoutMs: 20_000, what: 'the first live value on the chart' },
    );
    await publishTemperature(23.5);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="chart-temperature"]')?.getAttribute('data-last-value') ===
        '23.5',
    );
    const drawnAt = Number(await chart.getAttribute('data-drawn-at'));
    const receivedAt = Number(await chart.getAttribute('data-last-time'));
    // the point's time is when the bridge received it: publish → drawn on the canvas
    assert.ok(drawnAt - receivedAt <= 1_000, `drawn ${drawnAt - receivedAt} ms after the bridge received it`);
    assert.ok(Number(await chart.getAttribute('data-drawn-points')) >= 2);
    assert.match((await chart.locator('figcaption').textContent())!, /last 23\.5 Cel/);
    await assertAccessible(page, 'the live data page');
    await screenshot(page, '04-live');
  });

  it('shows the history as aggregates from the rollups, and downloads that as CSV', async () => {
    // the projection stores a point a moment after the live view showed it
    await waitFor(
      async () => {
        const { latest } = await platform.gql<{ latest: { value: number }[] }>(
          'query($t: ID!) { latest(thingId: $t) { value } }',
          { t: seen.thingId },
          await token(),
        );
        return latest[0]?.value === 23.5;
      },
      { timeoutMs: 20_000, what: 'the points stored' },
    );
    await page.getByRole('radio', { name: 'History' }).check();
    const history = page.locator('[data-testid="history"][data-loaded="true"]');
    await history.waitFor();
    const range = {
      from: (await history.getAttribute('data-from'))!,
      to: (await history.getAttribute('data-to'))!,
      every: (await history.getAttribute('data-every'))!,
    };
    assert.equal(range.every, '1m');
    const { telemetry } = await platform.gql<{ telemetry: { time: string; name: string; value: number }[] }>(
      'query($t: ID!, $from: DateTime, $to: DateTime, $every: String) { telemetry(thingId: $t, from: $from, to: $to, every: $every, aggregate: AVG) { time name value } }',
      { t: seen.thingId, ...range },
      await token(),
    );
    const raw = await platform.gql<{ telemetry: { value: number }[] }>(
      'query($t: ID!) { telemetry(thingId: $t, name: "temperature", last: 1000) { value } }',
      { t: seen.thingId },
      await token(),
    );
    assert.ok(telemetry.length >= 1 && telemetry.length <= raw.telemetry.length);
    const chart = page.getByTestId('chart-temperature');
    assert.equal(Number(await chart.getAttribute('data-drawn-points')), telemetry.length);
    assert.equal(Number(await chart.getAttribute('data-last-value')), telemetry.at(-1)!.value);
    assert.match((await chart.locator('figcaption').textContent())!, /last hour, avg per 1m/);
    await assertAccessible(page, 'the history page');
    await screenshot(page, '05-history');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV of what is shown' }).click(),
    ]);
    const csv = (await readFile((await download.path())!, 'utf8')).trim().split(/\r?\n/);
    const header = csv[0]!.split(',');
    assert.deepEqual(header.slice(0, 7), [
      'time',
      'thing_id',
      'channel_id',
      'subtopic',
      'name',
      'unit',
      'value',
    ]);
    const rows = csv.slice(1).map((line) => {
      const cells = line.split(',');
      const at = (col: string) => cells[header.indexOf(col)]!;
      return { time: new Date(at('time')).toISOString(), name: at('name'), value: Number(at('value')) };
    });
    assert.deepEqual(
      rows,
      telemetry.map((p) => ({ time: new Date(p.time).toISOString(), name: p.name, value: p.value })),
    );
  });

  it('sends ON to a device (mosquitto_sub) and shows its status move to succeeded', async () => {
    // a persistent session (-c): its commands wait in the log while it is offline
    const device = spawn(
      'stdbuf',
      [
        '-oL',
        'mosquitto_sub',
        ...mqtt('-q', '1', '-c', '-i', 'soil-north', '-u', seen.thingId!, '-P', seen.key!),
        ...['-t', `things/${seen.thingId}/commands`],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    devices.push(device);
    let out = '';
    for (const stream of [device.stdout, device.stderr])
      stream.on('data', (chunk) => {
        out += chunk;
      });
    const online = async () => {
      const { thing } = await platform.gql<{ thing: { status: { online: boolean } } }>(
        'query($id: ID!) { thing(id: $id) { status { online } } }',
        { id: seen.thingId },
        await token(),
      );
      return thing.status.online;
    };
    await waitFor(online, { timeoutMs: 10_000, what: 'the device online' }).catch((err: unknown) => {
      throw new Error(`mosquitto_sub said:\n${out}`, { cause: err });
    });
    const commandsOf = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { id: string; name: string; payload: unknown });

    await page.getByRole('link', { name: 'Commands', exact: true }).click();
    await page.getByRole('heading', { name: 'Commands of soil-north' }).waitFor();
    await page.getByRole('button', { name: 'ON', exact: true }).click();
    await waitFor(() => commandsOf().length === 1, { timeoutMs: 10_000, what: 'the device received ON' });
    const [on] = commandsOf();
    assert.deepEqual({ name: on!.name, payload: on!.payload }, { name: 'switch', payload: { state: 'ON' } });
    const row = page.locator(`tr[data-command-id="${on!.id}"]`);
    await page.locator(`tr[data-command-id="${on!.id}"][data-status="DELIVERED"]`).waitFor();
    await publish(`things/${seen.thingId}/commands/${on!.id}/result`, '{"status":"succeeded"}');
    await page.locator(`tr[data-command-id="${on!.id}"][data-status="SUCCEEDED"]`).waitFor();
    assert.match((await row.textContent())!, /succeeded/);

    // timed: ON now, OFF (the revert) after the duration, sent by the platform
    await page.getByLabel('Seconds').fill('4');
    await page.getByRole('button', { name: 'ON for 4 seconds, then OFF' }).click();
    const revert = page.locator('tr[data-status="SCHEDULED"]');
    await revert.waitFor();
    assert.match((await revert.textContent())!, /switch \{"state":"OFF"\} \(revert, at/);
    await assertAccessible(page, 'the commands page');
    await screenshot(page, '06-commands-timed');
    const revertId = (await revert.getAttribute('data-command-id'))!;
    await waitFor(() => commandsOf().length === 3, {
      timeoutMs: 20_000,
      what: 'the device received ON, then OFF',
    });
    assert.deepEqual(
      commandsOf().map((c) => c.payload),
      [{ state: 'ON' }, { state: 'ON' }, { state: 'OFF' }],
    );
    assert.equal(commandsOf()[2]!.id, revertId);
    await page.locator(`tr[data-command-id="${revertId}"][data-status="DELIVERED"]`).waitFor();
    await screenshot(page, '06-commands');
  });

  it('shows the alert a rule raised, and acknowledges it', async () => {
    await platform.gql(
      `mutation($t: ID!) { createRule(input: { name: "too warm", thingId: $t, measurement: "temperature",
        condition: { op: GT, value: 30 }, severity: MAJOR, message: "{thing} is at {value}" }) { id } }`,
      { t: seen.thingId },
      await token(),
    );
    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.getByText('No alerts.').waitFor();
    await assertAccessible(page, 'the alerts page, empty');
    const alert = page.locator('[data-testid="alerts"] li[data-status="OPEN"]');
    // the rules processor takes up the new rule a moment after it is stored: publish until it fires
    await waitFor(
      async () => {
        await publishTemperature(35);
        return alert.waitFor({ timeout: 2_000 }).then(
          () => true,
          () => false,
        );
      },
      { timeoutMs: 45_000, what: 'an alert on the page' },
    );
    assert.equal(await page.getByText(/Live updates stopped/).count(), 0, 'the alerts subscription failed');
    assert.match(
      (await alert.textContent())!,
      /^open major: .+ is at 35too warm on soil-north · temperature = 35 ·/,
    );
    await assertAccessible(page, 'the alerts page');
    await alert.getByLabel('Note').fill('opened the vent');
    await alert.getByRole('button', { name: 'Acknowledge' }).click();
    const acked = page.locator('[data-testid="alerts"] li[data-status="ACKNOWLEDGED"]');
    await acked.waitFor();
    const id = (await acked.getAttribute('data-alert-id'))!;
    const { alert: stored } = await platform.gql<{ alert: { status: string; note: string } }>(
      'query($id: ID!) { alert(id: $id) { status note } }',
      { id },
      await token(),
    );
    assert.deepEqual(stored, { status: 'ACKNOWLEDGED', note: 'opened the vent' });
    await screenshot(page, '07-alerts');
  });

  it('creates a rule, names the field it got wrong, previews it on past readings, disables and deletes it', async () => {
    // the alert links its rule: its form, filled with what is saved
    await page.locator('[data-testid="alerts"]').getByRole('link', { name: 'too warm' }).first().click();
    await page.getByRole('heading', { name: 'Rule too warm' }).waitFor();
    await waitFor(async () => (await page.getByLabel(/^Measurement/).inputValue()) === 'temperature', {
      timeoutMs: 5_000,
      what: 'the saved rule in its form',
    });
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await page.getByRole('heading', { name: 'Rules' }).waitFor();
    const warm = page.locator('[data-testid="rules"] tr', { hasText: 'too warm' });
    assert.match((await warm.textContent())!, /thing soil-north.*temperature > 30.*major.*enabled/);
    await assertAccessible(page, 'the rules page');

    // readings of the past hour, logged now: frost at 40 min ago, thawed (above 8) at 35, frost again at 30.
    // A measurement of their own: older than the temperatures above, they would be late (docs/rules.md)
    const minutesAgo = (m: number) => Date.now() / 1000 - m * 60;
    for (const [m, v] of [
      [40, 3],
      [35, 9],
      [30, 2],
    ] as const)
      await publish(
        `channels/${seen.channelId}/messages`,
        JSON.stringify([{ bt: minutesAgo(m), n: 'air', u: 'Cel', v }]),
      );

    await page.getByRole('link', { name: 'New rule' }).click();
    await page.getByRole('heading', { name: 'New rule' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('frost');
    await page.getByLabel(/^Thing/).selectOption({ label: 'soil-north' });
    await page.getByLabel(/^Measurement/).fill('air');
    await page.getByLabel('Raise when it is').selectOption({ label: 'between' });
    await page.getByLabel('From', { exact: true }).fill('10');
    await page.getByLabel('To', { exact: true }).fill('5');
    await page.getByRole('button', { name: 'Create rule' }).click();
    // the API's VALIDATION_FAILED beside the field it names, in words, and that field marked
    const upper = page.getByLabel('To', { exact: true });
    await page.locator('[aria-invalid="true"]').waitFor();
    assert.equal(await upper.getAttribute('aria-invalid'), 'true');
    const complaint = page.locator(`#${await upper.getAttribute('aria-describedby')}`);
    assert.equal(await complaint.textContent(), 'Must not be less than value.');
    assert.equal(await complaint.getAttribute('role'), 'alert');
    await assertAccessible(page, 'the rule form with a complaint');
    await screenshot(page, '07b-rule-invalid');

    await page.getByLabel('Raise when it is').selectOption({ label: 'below (<)' });
    await page.getByLabel(/^Value/).fill('5');
    await page.getByLabel(/^Clears above/).fill('8');
    // an action's own field: the API names the address, the form shows it beside the list
    await page.getByRole('button', { name: 'Add email action' }).click();
    const to = page.getByLabel(/^Email 1 to/);
    await to.fill('ana@example.com, grower');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.locator('[aria-invalid="true"]').waitFor();
    assert.equal(await to.getAttribute('aria-invalid'), 'true');
    assert.match(
      (await page.locator(`#${await to.getAttribute('aria-describedby')}`).textContent())!,
      /grower/,
    );
    await page.getByRole('button', { name: 'Remove action 1' }).click();
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('heading', { name: 'Rules' }).waitFor();
    const frost = page.locator('[data-testid="rules"] tr', { hasText: 'frost' });
    assert.match((await frost.textContent())!, /thing soil-north.*air < 5, clears above 8.*warning.*enabled/);
    const ruleId = (await frost.getAttribute('data-rule-id'))!;

    // the saved rule's backtest: the two frosts, the first thawed, with the ids the live rule gives
    await frost.getByRole('link', { name: 'frost' }).click();
    await page.getByRole('heading', { name: 'Rule frost' }).waitFor();
    await page.getByLabel(/^Range/).selectOption({ label: 'Last hour' });
    await page.getByRole('button', { name: 'Run backtest' }).click();
    await page.locator('[data-testid="backtest"][data-status="DONE"]').waitFor({ timeout: 30_000 });
    assert.match(
      (await page.getByTestId('backtest').getByRole('status').textContent())!,
      /^3 readings evaluated: 2 alerts would have been raised\.$/,
    );
    const rows = page.locator('[data-testid="backtest-alerts"] tbody tr');
    const cells = await rows.evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    assert.deepEqual(
      cells.map(([thing, value, , resolved]) => [thing, value, resolved === 'still open at the end']),
      [
        ['soil-north', '3', false],
        ['soil-north', '2', true],
      ],
    );
    await assertAccessible(page, 'a rule with its backtest');
    await screenshot(page, '07c-rule-backtest');
    // a preview: the backtest stored no alert
    const { alerts } = await platform.gql<{ alerts: { nodes: { id: string }[] } }>(
      'query($r: ID!) { alerts(ruleId: $r) { nodes { id } } }',
      { r: ruleId },
      await token(),
    );
    const previewed = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-alert-id')));
    assert.ok(!alerts.nodes.some((a) => previewed.includes(a.id)), 'a backtest alert was stored');

    await page.getByRole('link', { name: 'All rules' }).click();
    await frost.getByRole('button', { name: 'Disable frost' }).click();
    await page.locator(`[data-rule-id="${ruleId}"][data-enabled="false"]`).waitFor();
    const ruleOf = async () =>
      (
        await platform.gql<{ rule: { enabled: boolean } | null }>(
          'query($id: ID!) { rule(id: $id) { enabled } }',
          { id: ruleId },
          await token(),
        )
      ).rule;
    assert.deepEqual(await ruleOf(), { enabled: false });
    page.once('dialog', (d) => void d.accept());
    await frost.getByRole('button', { name: 'Delete frost' }).click();
    await frost.waitFor({ state: 'detached' });
    assert.equal(await ruleOf(), null);
  });

  it('works on a phone: a first load within 250 KB compressed, no sideways scrolling', async (t) => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    try {
      const p = await phone.newPage();
      // what this fresh browser downloads for the app itself (not the API's answers), as sent
      const transfers: Promise<number>[] = [];
      p.on('response', (res) => {
        const path = new URL(res.url()).pathname;
        if (path === '/' || path.startsWith('/assets/'))
          transfers.push(
            res
              .request()
              .sizes()
              .then((s) => s.responseBodySize),
          );
      });
      await p.goto(`${platform.apiUrl}/`);
      await p.getByLabel('Email').fill(EMAIL);
      await p.getByLabel('Password').fill(PASSWORD);
      await p.getByRole('button', { name: 'Log in' }).click();
      await p.getByRole('heading', { name: 'Things' }).waitFor();
      await p.getByText('soil-north').waitFor();
      const firstLoad = (await Promise.all(transfers)).reduce((a, b) => a + b, 0);
      t.diagnostic(
        `first load (login, then the things page): ${firstLoad} bytes compressed, ${transfers.length} files`,
      );
      assert.ok(firstLoad > 0 && firstLoad <= 250 * 1024, `${firstLoad} bytes`);
      for (const [path, heading, shown, name] of [
        ['things', 'Things', 'soil-north', '07-phone-things'],
        [`things/${seen.thingId}/data`, 'Data of soil-north', 'temperature', '08-phone-data'],
        [`things/${seen.thingId}/commands`, 'Commands of soil-north', 'succeeded', '09-phone-commands'],
        ['rules', 'Rules', 'too warm', '11-phone-rules'],
        ['rules/new', 'New rule', 'Watches', '12-phone-rule-form'],
      ] as const) {
        await p.goto(`${platform.apiUrl}/#/${path}`);
        await p.getByRole('heading', { name: heading }).waitFor();
        await p.getByText(shown).first().waitFor();
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${path} scrolls ${overflow} px sideways on a phone`);
        await assertAccessible(p, `${path} on a phone`);
        await screenshot(p, name);
      }
    } finally {
      await phone.close();
    }
  });

  it('logs out, and says why when the session ended elsewhere', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in to Telly' }).waitFor();
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    assert.equal(await page.getByRole('alert').textContent(), 'Wrong email or password.');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    // back where it was
    await page.getByRole('heading', { name: 'Rules' }).waitFor();
    // the session ends elsewhere (its refresh token logged out): the next request says so
    const refreshToken = await page.evaluate(() => sessionStorage.getItem('telly.refreshToken'));
    await platform.gql('mutation($r: String!) { logout(refreshToken: $r) }', { r: refreshToken });
    await page.getByRole('link', { name: 'Channels' }).click();
    const notice = page.getByRole('status').filter({ hasText: /session/i });
    await notice.waitFor();
    assert.match((await notice.textContent())!, /log in again/i);
    assert.deepEqual(pageErrors, []);
  });
});

describe('the session, silently refreshed', () => {
  it('refreshes the access token before it expires, rotating the refresh token, and keeps working', async () => {
    const ctx = await browser.newContext();
    try {
      const p = await ctx.newPage();
      const errors = watchErrors(p);
      await p.clock.install();
      await p.goto(`${platform.apiUrl}/`);
      await p.getByLabel('Email').fill(EMAIL);
      await p.getByLabel('Password').fill(PASSWORD);
      await p.getByRole('button', { name: 'Log in' }).click();
      await p.getByRole('heading', { name: 'Things' }).waitFor();
      const first = await p.evaluate(() => sessionStorage.getItem('telly.refreshToken'));
      // 14 minutes later (a minute before the 15-minute access token expires)
      await p.clock.fastForward('14:01');
      await p.waitForFunction((t) => sessionStorage.getItem('telly.refreshToken') !== t, first);
      await p.getByRole('link', { name: 'Channels' }).click();
      await p.getByRole('heading', { name: 'Channels' }).waitFor();
      // the spent token is gone for good: presenting it again is refused as reused
      const reuse = await fetch(`${platform.apiUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation($r: String!) { refresh(refreshToken: $r) { accessToken } }',
          variables: { r: first },
        }),
      }).then((r) => r.json() as Promise<{ errors?: { extensions: { code: string } }[] }>);
      assert.equal(reuse.errors?.[0]?.extensions.code, 'REFRESH_TOKEN_REUSED');
      // reuse ended the whole session (stolen-token detection): the page says so in words. The
      // click only prompts a request; the app may already have noticed and left the page
      await p
        .getByRole('link', { name: 'Things' })
        .click({ timeout: 5_000 })
        .catch(() => {});
      const notice = p.getByRole('status').filter({ hasText: /session/i });
      await notice.waitFor();
      assert.match((await notice.textContent())!, /log in again/i);
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
});

describe('operations, for admins of the operator tenant', () => {
  it('verifies and replays the telemetry projection with progress, and lists dead letters', {
    timeout: 400_000,
  }, async () => {
    const { me } = await platform.gql<{ me: { tenant: { id: string } } }>(
      '{ me { tenant { id } } }',
      {},
      await token(),
    );
    assert.equal(await platform.stop(), 0);
    platform = await startPlatform({ ...platform.env, TELLY_OPERATOR_TENANT: me.tenant.id }, STARTUP);
    await page.goto(`${platform.apiUrl}/#/operate`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Operate' }).waitFor();
    await page.getByTestId('dlq-empty').waitFor();

    await page.getByRole('button', { name: 'Verify telemetry-pg' }).click();
    const verified = page.getByTestId('verify-result');
    await verified.waitFor();
    assert.match((await verified.textContent())!, /In agreement with the log: \d+ messages, \d+ points/);

    const stored = async () =>
      (
        await platform.gql<{ telemetry: unknown[] }>(
          'query($t: ID!) { telemetry(thingId: $t, last: 1000) { time } }',
          { t: seen.thingId },
          await token(),
        )
      ).telemetry.length;
    const before = await stored();
    assert.ok(before >= 2);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Replay telemetry-pg' }).click();
    await page.locator('[data-testid="replay-job"][data-state="SUCCEEDED"]').waitFor({ timeout: 60_000 });
    const done = (await page.getByTestId('replay-job').textContent())!;
    assert.match(done, /Done: \d+ messages, \d+ points/);
    assert.equal(Number(await page.locator('progress').getAttribute('value')), 100);
    // the rebuilt projection has every point of the thing it had
    assert.equal(await stored(), before);
    await assertAccessible(page, 'the operate page');
    await screenshot(page, '10-operate');
    assert.deepEqual(pageErrors, []);
  });
});
