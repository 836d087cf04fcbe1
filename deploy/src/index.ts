export type { UpConfig } from './config.ts';
export { DEFAULT_API_PORT, DEFAULT_DATA_DIR, parseConfig } from './config.ts';
export type { ComponentEntry } from './up/components.ts';
export { COMPONENTS, loadComponent } from './up/components.ts';
export { platformNats } from './up/dependencies.ts';
export { migrate } from './up/migrate.ts';
export type { RunningPlatform, UpOptions } from './up/up.ts';
export { up } from './up/up.ts';
