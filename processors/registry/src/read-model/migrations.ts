import { type MigrationSet, sqlMigrations } from '@telly/runtime';

/**
 * The registry read model, versioned as frozen SQL in src/migrations/. Nothing here is the
 * truth: every table is rebuilt from the REGISTRY stream. Uniqueness (emails, key hashes,
 * external ids) is enforced when commands are decided, not by constraints here, so that the
 * projection can always apply what the log holds and never gets stuck on it.
 */
export const registryMigrations: MigrationSet = sqlMigrations(
  'registry',
  new URL('../migrations/', import.meta.url),
);

/** Tables of the read model, in the order a rebuild truncates them. */
export const READ_MODEL_TABLES = [
  'tenants',
  'users',
  'things',
  'revoked_thing_keys',
  'channels',
  'connections',
  'api_keys',
  'bootstrap_configs',
  'registry_claims',
  'registry_credential_outbox',
] as const;
