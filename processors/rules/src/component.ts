import { jetstream } from '@nats-io/jetstream';
import { defineComponent, Publisher } from '@telly/runtime';
import { alertsProjection } from './alerts-projection.ts';
import { parseRulesConfig } from './config.ts';
import { definitionsProjection } from './definitions.ts';
import { evaluatorProcessor } from './evaluator.ts';
import { rulesMigrations } from './migrations.ts';
import { startNotifier } from './notifier.ts';
import { Outbox } from './outbox.ts';
import { RuleCache } from './rule-cache.ts';
import { thingsProjection } from './things-projection.ts';
import { startTimers } from './timers.ts';

/**
 * The rules processor: rule definitions and things' metadata from REGISTRY, evaluation over
 * MESSAGES with durable state and timers, the alert outbox into EVENTS, the alerts read model,
 * and the actions.
 */
export const component = defineComponent({
  name: 'rules',
  config: parseRulesConfig,
  uses: { postgres: { migrations: rulesMigrations } },
  async start({ config, nc, pool, logger, run, onStop }) {
    const publisher = new Publisher(jetstream(nc));
    const cache = new RuleCache(pool);
    const outbox = new Outbox(pool, publisher, logger);
    const notifier = startNotifier(pool, publisher, config, logger);
    onStop(() => notifier.stop());
    await run(definitionsProjection(pool));
    await run(thingsProjection(pool));
    await run(alertsProjection(pool, () => notifier.kick()));
    await run(evaluatorProcessor(pool, cache, () => outbox.kick()));
    const timers = startTimers(pool, cache, logger, () => outbox.kick());
    onStop(() => timers.stop());
    outbox.start();
    onStop(() => outbox.stop());
  },
});
