/**
 * JSON text as the repository's formatter (Biome) writes it, so generated files under
 * `schemas/json/` pass `biome check` untouched: two-space indent, objects expanded, arrays of
 * primitives on one line when that line fits in {@link LINE_WIDTH}.
 */
const LINE_WIDTH = 110;

export function formatJson(value: unknown): string {
  return `${format(value, 0, 0)}\n`;
}

/** `prefixWidth`: characters already on the line before this value (indent, key, …). */
function format(value: unknown, indent: number, prefixWidth: number): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const pad = ' '.repeat(indent + 2);
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const flat = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      // +1 for a trailing comma when this is not the last member: keep a margin either way.
      if (prefixWidth + flat.length + 1 <= LINE_WIDTH) return flat;
    }
    const items = value.map((v) => `${pad}${format(v, indent + 2, pad.length)}`);
    return `[\n${items.join(',\n')}\n${' '.repeat(indent)}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const pad = ' '.repeat(indent + 2);
    const lines = entries.map(([k, v]) => {
      const key = `${pad}${JSON.stringify(k)}: `;
      return `${key}${format(v, indent + 2, key.length)}`;
    });
    return `{\n${lines.join(',\n')}\n${' '.repeat(indent)}}`;
  }
  return JSON.stringify(value);
}
