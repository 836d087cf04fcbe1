import { defineComponent } from '@telly/runtime';
import { parseDevicesConfig } from './config.ts';
import { devicesMigrations } from './migrations.ts';
import { deviceEventsProjection, deviceMessagesProjection, pruneRejections } from './projection.ts';

/** How often refused publishes past their age bound are forgotten. */
const PRUNE_EVERY_MS = 60_000;

/** The device status read model: presence, last message and recent refused publishes. */
export const component = defineComponent({
  name: 'devices',
  config: parseDevicesConfig,
  uses: { postgres: { migrations: devicesMigrations } },
  async start({ config, pool, logger, run, onStop }) {
    await run(deviceEventsProjection(pool, config.rejections));
    await run(deviceMessagesProjection(pool));
    const prune = () =>
      pruneRejections(pool, config.rejections).catch((err: unknown) =>
        logger.warn({ err }, 'pruning old rejections failed; trying again later'),
      );
    await prune();
    const timer = setInterval(prune, PRUNE_EVERY_MS);
    onStop(() => clearInterval(timer));
  },
});
