import { jetstream } from '@nats-io/jetstream';
import { defineComponent, Publisher } from '@telly/runtime';
import { ModelCatalog } from './catalog/model-catalog.ts';
import { ModelFiles } from './serving/model-files.ts';
import { ModelPool } from './serving/model-pool.ts';
import { inferenceProcessor } from './stream/inference-processor.ts';
import { ReplayService } from './stream/replay-service.ts';
import { ServingModels } from './stream/serving.ts';

/**
 * Models on streams: the deployed version of each bound model runs on its channels' messages,
 * live and in replays of a binding over history.
 */
export const component = defineComponent({
  name: 'inference',
  async start({ nc, logger, run, onStop }) {
    const js = jetstream(nc);
    const catalog = new ModelCatalog();
    await catalog.follow(js, logger);
    onStop(() => catalog.stop());
    const pool = new ModelPool(new ModelFiles(nc));
    onStop(() => pool.close());
    const serving = new ServingModels(catalog, pool, logger);
    await serving.settled();
    const publisher = new Publisher(js);
    await run(inferenceProcessor({ serving, publisher }));
    // replays of a binding, asked by the API: this process has the model loaded and may publish results
    const replays = new ReplayService({ nc, js, serving, publisher, logger });
    replays.start();
    onStop(() => replays.stop());
  },
});
