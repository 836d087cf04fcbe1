import { type MigrationSet, runMigrations, runtimeMigrations } from '@telly/runtime';
import type pg from 'pg';
import { COMPONENTS, type ComponentEntry, loadComponent } from './components.ts';

/**
 * `telly migrate`: brings every package's tables up to date, once, before any component starts
 * (`telly up` calls it). Each set belongs to the package that declares it on its component; the
 * runtime's checkpoint tables come first. Returns the names of the sets, in the order run.
 */
export async function migrate(pool: pg.Pool, components: ComponentEntry[] = COMPONENTS): Promise<string[]> {
  const sets = new Map<string, MigrationSet>([[runtimeMigrations.name, runtimeMigrations]]);
  for (const entry of components) {
    for (const set of (await loadComponent(entry)).migrations) sets.set(set.name, set);
  }
  await runMigrations(pool, ...sets.values());
  return [...sets.keys()];
}
