// Dev script: `node schemas/src/events/write-json-schemas.ts` writes every event's JSON Schema to
// schemas/json/<type>.v<version>.json (for consumers outside TypeScript) and removes schema
// files of events no longer in the catalog. The only file I/O in @telly/schemas.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventJsonSchemas } from './catalog.ts';
import { formatJson } from './json-format.ts';

const dir = new URL('../../json/', import.meta.url);
mkdirSync(dir, { recursive: true });

const written = new Set<string>();
for (const schema of eventJsonSchemas()) {
  const file = schema.$id.slice(schema.$id.lastIndexOf('/') + 1);
  writeFileSync(new URL(file, dir), formatJson(schema));
  written.add(file);
}
for (const file of readdirSync(dir)) {
  if (file.endsWith('.json') && !written.has(file)) rmSync(new URL(file, dir));
}
console.log(`wrote ${written.size} JSON Schemas to ${fileURLToPath(dir)}`);
