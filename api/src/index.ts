export type { Api, ApiDeps } from './app.ts';
export { createApi, MAX_REQUEST_BYTES } from './app.ts';
export { component } from './component.ts';
export type { ApiConfig } from './config.ts';
export { parseApiConfig } from './config.ts';
export type { ApiErrorCode } from './errors.ts';
export { schema } from './schema/index.ts';
export { GRAPHQL_PATH } from './yoga.ts';
