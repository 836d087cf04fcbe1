/**
 * The registry's read queries as the GraphQL schema reads them: the queries and their rows are
 * the registry package's (it owns the tables), pages and cursors the runtime's.
 */
export type { ApiKeyRow, BootstrapRow, ChannelRow, ThingRow, UserRow } from '@telly/registry';
export { RegistryQueries } from '@telly/registry';
export type { Page } from '@telly/runtime';
export { encodeCursor } from '@telly/runtime';
