import type { Rule } from './types.ts';

/** A thing's metadata as the registry holds it (a JSON object). */
export type ThingMetadata = Readonly<Record<string, unknown>>;

/**
 * A thing's current metadata, or `undefined` when it is not a thing of that tenant (or is
 * deleted). The live evaluator answers from the `rule_things` read model, a backtest from the
 * same read model read once.
 */
export type ThingMetadataLookup = (tenantId: string, thingId: string) => ThingMetadata | undefined;

/** Where a reading comes from. */
export interface ReadingSource {
  tenantId: string;
  thingId: string;
  channelId: string;
}

/**
 * Whether `metadata` has each key of `match` with exactly its value. The values of a match are
 * scalars (the schema says so), for which this is jsonb `metadata @> match`.
 */
export function metadataMatches(metadata: ThingMetadata, match: ThingMetadata): boolean {
  for (const [key, value] of Object.entries(match)) {
    if (!Object.hasOwn(metadata, key) || metadata[key] !== value) return false;
  }
  return true;
}

/**
 * Whether a rule watches readings from this source: its tenant, its thing or channel if it
 * names one, and the things whose metadata holds its `thingMetadata` if it has one. The one
 * definition of a rule's scope: the live evaluator (through `RuleCache.matching`), the
 * timers and backtests all ask it.
 */
export function inScope(rule: Rule, source: ReadingSource, metadataOf: ThingMetadataLookup): boolean {
  const { def } = rule;
  if (rule.tenantId !== source.tenantId) return false;
  if (def.thingId !== undefined && def.thingId !== source.thingId) return false;
  if (def.channelId !== undefined && def.channelId !== source.channelId) return false;
  if (def.thingMetadata === undefined) return true;
  const metadata = metadataOf(source.tenantId, source.thingId);
  return metadata !== undefined && metadataMatches(metadata, def.thingMetadata);
}
