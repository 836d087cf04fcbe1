import type { MeasuredValue } from './types.ts';

/** Fills `{thing}`, `{name}`, `{value}`, `{threshold}` of a rule's message; other braces stay. */
export function renderMessage(
  template: string,
  values: { thing: string; name: string; value?: MeasuredValue | undefined; threshold?: unknown },
): string {
  return template
    .replace(/\{(thing|name|value|threshold)\}/g, (_m, key: keyof typeof values) => {
      const v = values[key];
      return v === undefined || v === null ? '' : String(v);
    })
    .slice(0, 1024);
}
