import type { ProcessorDefinition } from './types.ts';

export const DEFAULT_PROCESSOR = {
  maxMessages: 256,
  expiresMs: 1_000,
  maxDeliver: 5,
  ackWaitMs: 30_000,
} as const;

/** Declares a processor; run it with `runProcessor` (or register it as a component). */
export function defineProcessor(definition: ProcessorDefinition): ProcessorDefinition {
  if (!/^[A-Za-z0-9_-]+$/.test(definition.name)) {
    throw new Error(
      `processor name ${JSON.stringify(definition.name)} must match [A-Za-z0-9_-]+ (it names a consumer)`,
    );
  }
  return definition;
}
