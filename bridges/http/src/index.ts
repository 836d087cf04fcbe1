export type { HttpBridge, HttpBridgeOptions, MetricsRegistry } from './app.ts';
export {
  buildHttpBridge,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_PARAM_LENGTH,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './app.ts';
export { component } from './component.ts';
export type { HttpConfig } from './config.ts';
export { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, parseHttpConfig } from './config.ts';
export { MESSAGE_CONTENT_TYPES } from './content-types.ts';
export type { Problem, ProblemReason } from './problem.ts';
export { PROBLEM_CONTENT_TYPE } from './problem.ts';
