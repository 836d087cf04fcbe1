import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type BridgeTestStack, startBridgeTestStack } from '@telly/bridge-core/testing';
import { freePort } from '@telly/harness';
import { createMetricsRegistry, HealthChecks, isConfigError } from '@telly/runtime';
import { component } from './component.ts';
import { curl, post } from './testing/curl.ts';

let stack: BridgeTestStack;
before(async () => {
  stack = await startBridgeTestStack();
});
after(() => stack?.stop());

const context = (env: NodeJS.ProcessEnv) => ({
  name: component.name,
  env,
  logger: stack.logger,
  metrics: createMetricsRegistry(component.name),
  health: new HealthChecks(),
});

test('as a telly up component: serves devices on TELLY_HTTP_PORT, reports health and metrics, stops cleanly', async () => {
  const { tenantId, channelId } = await stack.tenant();
  const thing = await stack.thing(tenantId, [channelId]);
  const port = await freePort();
  const ctx = context({
    NATS_URL: stack.natsUrl,
    TELLY_HTTP_PORT: String(port),
    TELLY_HTTP_HOST: '127.0.0.1',
  });
  const running = await component.start(ctx);
  const url = `http://127.0.0.1:${port}`;
  try {
    const res = await post(`${url}/channels/${channelId}/messages`, {
      key: thing.key,
      contentType: 'application/json',
      body: '{"temp": 20}',
    });
    assert.equal(res.status, 202, res.body);
    const report = await ctx.health.report();
    assert.equal(report.status, 'up', JSON.stringify(report));
    assert.deepEqual(Object.keys(report.checks).sort(), ['credentials', 'nats']);
    assert.match(
      await ctx.metrics.getSingleMetricAsString('telly_bridge_messages_total'),
      /protocol="http",outcome="accepted"[^\n]* 1$/m,
    );
    assert.equal((await curl([`${url}/healthz`])).status, 200);
  } finally {
    await running.stop();
  }
  await assert.rejects(curl([`${url}/healthz`]), (err: { code?: number }) => err.code === 7);
});

test('bad configuration fails the start, naming the variable', async () => {
  await assert.rejects(
    component.start(context({})),
    (err) => isConfigError(err) && err.variable === 'NATS_URL',
  );
  await assert.rejects(
    component.start(
      context({
        NATS_URL: stack.natsUrl,
        TELLY_HTTP_PORT: '0',
        TELLY_HTTP_TLS_CERT: '/nonexistent/cert.pem',
        TELLY_HTTP_TLS_KEY: '/nonexistent/key.pem',
      }),
    ),
    (err) => isConfigError(err) && err.variable === 'TELLY_HTTP_TLS_CERT',
  );
});
