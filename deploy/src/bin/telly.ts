// The `telly` command. Run through deploy/bin/telly (or `npm start`), which puts the pinned
// Node.js on PATH first.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KafkaBroker } from '@telly/harness';
import { createLogger, isConfigError } from '@telly/runtime';
import { parseConfig } from '../config.ts';
import { modelsCommand } from '../models/cli.ts';
import { dlqCommand } from '../ops/dlq.ts';
import { isPlatformUnreachable, migrateCommand } from '../ops/platform.ts';
import { replayCommand, verifyCommand } from '../ops/projections.ts';
import { simulateCommand } from '../simulate/cli.ts';
import { isComponentStartError } from '../up/component-process.ts';
import { SHUTDOWN_BUDGET_MS, up } from '../up/up.ts';

const USAGE = `usage: telly <command> [options]

commands:
  up        run the whole platform on this machine (managed NATS + Postgres unless
            NATS_URL / DATABASE_URL are set); Ctrl-C stops it cleanly
            --kafka: also a managed Kafka broker (port TELLY_KAFKA_PORT, 9092) and the Kafka bridge
  replay    rebuild a projection from the log and swap it in: telly replay telemetry-pg
            [--from-seq N | --from-time T]
  verify    compare a projection with the log: telly verify telemetry-pg
  migrate   bring every package's tables up to date (telly up does this before starting)
  dlq       what the processors gave up on: telly dlq list | show <seq> | redrive <seq> |
            purge <seq> | --processor P | --all (telly dlq --help)
  simulate  a fleet of simulated devices publishing to a platform (telly simulate --help)
  models    the model registry: telly models push <file.onnx> --name N [--deploy] | list
  help      this text

configuration is read from the environment; see docs/configuration.md`;

async function runUp(withKafka: boolean): Promise<void> {
  const config = parseConfig(process.env);
  const logger = createLogger('telly-up');
  // --kafka: a single-node broker of our own, its log in the data dir, and the bridge on it
  const kafka = withKafka
    ? await KafkaBroker.start({
        dataDir: join(config.dataDir, 'kafka'),
        port: Number(process.env.TELLY_KAFKA_PORT || 9092),
      })
    : undefined;
  if (kafka) process.env.TELLY_KAFKA_BROKERS = kafka.bootstrap;
  const platform = await up(config, { logger }).catch(async (err: unknown) => {
    await kafka?.stop();
    throw err;
  });
  const rows: [string, string][] = [
    ['API, /healthz, /metrics', platform.apiUrl],
    ...platform.endpoints.map((endpoint): [string, string] => [endpoint.label, endpoint.url]),
    ['NATS', platform.natsUrl],
    ...(kafka ? [['Kafka', kafka.bootstrap] as [string, string]] : []),
    ['Postgres', redact(platform.databaseUrl)],
    ['data', config.dataDir],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = [
    'Telly is up',
    ...rows.map(([label, url]) => `  ${label.padEnd(width)}${url}`),
    'Ctrl-C to stop',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn('second signal: killing every component and server now');
      platform.kill();
      void kafka?.kill();
      process.exit(130);
    }
    logger.info({ signal }, 'stopping');
    // every step of stop() is bounded; should one still hang, nothing outlives the budget
    setTimeout(() => {
      logger.error({ budgetMs: SHUTDOWN_BUDGET_MS }, 'stop took too long: killing everything');
      platform.kill();
      process.exit(1);
    }, SHUTDOWN_BUDGET_MS + 500).unref();
    platform
      .stop()
      .then(() => kafka?.stop())
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

const { positionals } = parseArgs({ allowPositionals: true, strict: false });
const command = positionals[0] ?? 'help';
try {
  switch (command) {
    case 'up':
      await runUp(process.argv.includes('--kafka'));
      break;
    case 'replay':
      process.exitCode = await replayCommand(process.argv.slice(2));
      break;
    case 'verify':
      process.exitCode = await verifyCommand(process.argv.slice(2));
      break;
    case 'migrate':
      process.exitCode = await migrateCommand();
      break;
    case 'dlq':
      process.exitCode = await dlqCommand(process.argv.slice(3));
      break;
    case 'models':
      process.exitCode = await modelsCommand(process.argv.slice(3));
      break;
    case 'simulate':
      await simulateCommand(process.argv.slice(3));
      break;
    case 'help':
    case '--help':
      console.log(USAGE);
      break;
    default:
      console.error(`unknown command ${command}\n\n${USAGE}`);
      process.exit(2);
  }
} catch (err) {
  if (isConfigError(err)) {
    console.error(`configuration error: ${err.message}`);
    process.exit(2);
  }
  if (isPlatformUnreachable(err) || isComponentStartError(err)) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
