export { PgCheckpoint } from './checkpoint.ts';
export { DLQ_HEADERS } from './dead-letter.ts';
export type {
  DeadLetter,
  DeadLetterDepths,
  DeadLetterErrorCode,
  DeadLetterPage,
} from './dead-letter-queue.ts';
export {
  DeadLetterError,
  DeadLetterQueue,
  DLQ_DEGRADED_WINDOW_MS,
  deadLetterCheck,
  isDeadLetterError,
  MAX_DEAD_LETTERS_PAGE,
  REDRIVE_HEADERS,
  redriveTargetOf,
} from './dead-letter-queue.ts';
export { DEFAULT_PROCESSOR, defineProcessor } from './define.ts';
export { isPermanentError, isUnavailableError, PermanentError, UnavailableError } from './errors.ts';
export { logEntryOf } from './message.ts';
export type { RunningProcessor, RunProcessorOptions } from './run.ts';
export { runProcessor } from './run.ts';
export type { TelemetryBatch, TelemetryDeadLetter } from './telemetry.ts';
export { telemetryBatch, telemetryPointsOf } from './telemetry.ts';
export type {
  DeadLetterRequest,
  HandleOutcome,
  HandleResult,
  HandlerContext,
  ProcessorDefinition,
  ProcessorMessage,
} from './types.ts';
