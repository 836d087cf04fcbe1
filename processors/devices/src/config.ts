import { envDuration, envInteger } from '@telly/runtime';
import {
  DEFAULT_REJECTIONS_MAX_AGE_MS,
  DEFAULT_REJECTIONS_PER_THING,
  type RejectionBounds,
} from './projection.ts';

/** What the device status read model reads from the environment. */
export interface DevicesConfig {
  /**
   * `TELLY_REJECTIONS_PER_THING` (the newest refused publishes kept per thing) and
   * `TELLY_REJECTIONS_MAX_AGE` (none kept longer, e.g. `7d`).
   */
  rejections: RejectionBounds;
}

export function parseDevicesConfig(env: NodeJS.ProcessEnv): DevicesConfig {
  return {
    rejections: {
      perThing: envInteger(env, 'TELLY_REJECTIONS_PER_THING', DEFAULT_REJECTIONS_PER_THING, { max: 100_000 }),
      maxAgeMs: envDuration(env, 'TELLY_REJECTIONS_MAX_AGE', DEFAULT_REJECTIONS_MAX_AGE_MS, { min: 60_000 }),
    },
  };
}
