import type { EventData, EventOf, REGISTRY_EVENTS } from '@telly/schemas';

/** Registry event types: what the REGISTRY stream holds (presence events such as `thing.online` go to EVENTS). */
export type RegistryEventType = keyof typeof REGISTRY_EVENTS;
export type RegistryEvent = EventOf<RegistryEventType>;

/** An event as a decider produces it: ids, clock, tenant and actor are stamped by the handler. */
export type EventDraft = { [T in RegistryEventType]: { type: T; data: EventData<T> } }[RegistryEventType];

/**
 * emmett-style decider for one entity kind: `decide(command, state)` → events (or a thrown
 * RegistryError), `evolve(state, event)` → state. Pure: everything impure arrives in the command.
 */
export interface Decider<Command, State> {
  initialState(): State;
  evolve(state: State, event: RegistryEvent): State;
  decide(command: Command, state: State): EventDraft[];
}

/** Folds an entity's history into its state. */
export function fold<S>(decider: Decider<unknown, S>, events: readonly RegistryEvent[]): S {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState());
}

/** Shallow JSON equality for metadata updates (so a no-op update writes nothing). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
