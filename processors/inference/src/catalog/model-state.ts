import type { EventData, EventOf, ModelEventType } from '@telly/schemas';

export type { ModelEventType };
export type ModelEvent = EventOf<ModelEventType>;

export type ModelVersion = EventData<'model.version-added'> & { createdAt: string };
export type ModelBinding = EventData<'model.bound'> & { createdAt: string };

/** A model as the fold of its events. */
export interface ModelState {
  exists: boolean;
  deleted: boolean;
  id: string;
  tenantId: string;
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
  versions: ModelVersion[];
  /** The version that serves, or undefined when undeployed. */
  deployedVersion: number | undefined;
  /** Versions deployed before the current one, oldest first (what a rollback goes back to). */
  previouslyDeployed: number[];
  bindings: ModelBinding[];
}

export function initialModelState(): ModelState {
  return {
    exists: false,
    deleted: false,
    id: '',
    tenantId: '',
    name: '',
    description: '',
    createdAt: '',
    updatedAt: '',
    versions: [],
    deployedVersion: undefined,
    previouslyDeployed: [],
    bindings: [],
  };
}

/** evolve: the state after one event (pure; a new object). */
export function evolveModel(state: ModelState, event: ModelEvent): ModelState {
  const next = { ...state, updatedAt: event.time };
  switch (event.type) {
    case 'model.created':
      return {
        ...next,
        exists: true,
        id: event.data.modelId,
        tenantId: event.tenantId,
        name: event.data.name,
        description: event.data.description,
        createdAt: event.time,
      };
    case 'model.version-added':
      return { ...next, versions: [...state.versions, { ...event.data, createdAt: event.time }] };
    case 'model.deployed':
      return {
        ...next,
        deployedVersion: event.data.version,
        previouslyDeployed:
          state.deployedVersion === undefined
            ? state.previouslyDeployed
            : [...state.previouslyDeployed, state.deployedVersion].slice(-20),
      };
    case 'model.undeployed':
      return { ...next, deployedVersion: undefined };
    case 'model.bound':
      return { ...next, bindings: [...state.bindings, { ...event.data, createdAt: event.time }] };
    case 'model.unbound':
      return { ...next, bindings: state.bindings.filter((b) => b.bindingId !== event.data.bindingId) };
    case 'model.deleted':
      return { ...next, deleted: true, deployedVersion: undefined, bindings: [] };
  }
}

/** The deployed version's metadata, if any. */
export function servingVersion(state: ModelState): ModelVersion | undefined {
  return state.versions.find((v) => v.version === state.deployedVersion);
}
