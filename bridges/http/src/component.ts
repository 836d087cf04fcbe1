import { readFile } from 'node:fs/promises';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { bridgeMetrics, Ingest } from '@telly/bridge-core';
import { CredentialsCache } from '@telly/registry';
import { ConfigError, connectNats, defineComponent, Publisher } from '@telly/runtime';
import { KV_BUCKETS } from '@telly/schemas';
import { buildHttpBridge } from './app.ts';
import { type HttpConfig, parseHttpConfig } from './config.ts';
import { credentialsHealthCheck, natsHealthCheck } from './health.ts';

async function readTls(tls: NonNullable<HttpConfig['tls']>): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (file: string, variable: string) =>
    readFile(file).catch((err: unknown) => {
      throw new ConfigError(variable, `cannot read ${file}: ${err instanceof Error ? err.message : err}`);
    });
  const [cert, key] = await Promise.all([
    read(tls.certFile, 'TELLY_HTTP_TLS_CERT'),
    read(tls.keyFile, 'TELLY_HTTP_TLS_KEY'),
  ]);
  return { cert, key };
}

/**
 * The HTTP bridge as a `telly up` component: connects to NATS (`NATS_URL`), watches the
 * `credentials` bucket, and serves devices on `TELLY_HTTP_PORT` (HTTPS with `TELLY_HTTP_TLS_CERT`
 * and `TELLY_HTTP_TLS_KEY`). Stopping drains in-flight requests before NATS is drained.
 */
export const component = defineComponent({
  name: 'http',
  async start(ctx) {
    const config = parseHttpConfig(ctx.env);
    const tls = config.tls ? await readTls(config.tls) : undefined;
    const nc = await connectNats(config.natsServers, 'bridge-http');
    let credentials: CredentialsCache | undefined;
    try {
      const kv = await new Kvm(nc).open(KV_BUCKETS.CREDENTIALS);
      credentials = await CredentialsCache.open(kv);
      const ingest = new Ingest({
        protocol: 'http',
        credentials,
        publisher: new Publisher(jetstream(nc)),
        metrics: bridgeMetrics(ctx.metrics),
        logger: ctx.logger,
      });
      ctx.health.add('nats', natsHealthCheck(nc)).add('credentials', credentialsHealthCheck(kv));
      const app = buildHttpBridge({
        ingest,
        logger: ctx.logger,
        metricsRegistry: ctx.metrics,
        health: ctx.health,
        tls,
      });
      await app.listen({ port: config.port, host: config.host });
      ctx.logger.info({ addresses: app.addresses(), tls: Boolean(tls) }, 'HTTP bridge listening');
      const cache = credentials;
      return {
        async stop() {
          await app.close();
          cache.close();
          await nc.drain();
        },
      };
    } catch (err) {
      credentials?.close();
      await nc.close();
      throw err;
    }
  },
});
