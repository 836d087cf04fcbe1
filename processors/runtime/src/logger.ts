import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/** @default level when `LOG_LEVEL` is unset */
export const DEFAULT_LOG_LEVEL = 'info';

/**
 * Structured JSON logs (pino); human-readable when stdout is a terminal or `LOG_PRETTY=1`.
 * `component` is on every line so the merged log of `telly up` stays searchable.
 */
export function createLogger(component: string, env: NodeJS.ProcessEnv = process.env): Logger {
  const options: LoggerOptions = {
    level: env.LOG_LEVEL ?? DEFAULT_LOG_LEVEL,
    base: { component },
  };
  const pretty = env.LOG_PRETTY ? env.LOG_PRETTY === '1' : process.stdout.isTTY === true;
  if (pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' },
      },
    });
  }
  return pino(options);
}
