export { PgCheckpoint } from './checkpoint.ts';
export { DEFAULT_PROCESSOR, defineProcessor, retryDelayMs } from './define.ts';
export {
  DLQ_HEADERS,
  isPermanentError,
  isUnavailableError,
  PermanentError,
  UnavailableError,
} from './errors.ts';
export type { RunningProcessor, RunProcessorOptions } from './run.ts';
export { runProcessor } from './run.ts';
export type { HandlerContext, ProcessorDefinition, ProcessorMessage } from './types.ts';
