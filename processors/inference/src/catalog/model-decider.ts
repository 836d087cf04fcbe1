import type { EventData } from '@telly/schemas';
import { InferenceError } from '../errors.ts';
import {
  evolveModel,
  initialModelState,
  type ModelEvent,
  type ModelEventType,
  type ModelState,
} from './model-state.ts';

/** Most versions a model keeps; most bindings it has. */
export const MAX_VERSIONS = 100;
export const MAX_BINDINGS = 100;

type VersionData = Omit<EventData<'model.version-added'>, 'modelId' | 'version'>;

export type ModelCommand =
  | { type: 'add-version'; modelId: string; name: string; version: VersionData }
  | { type: 'deploy'; version: number }
  | { type: 'undeploy' }
  | { type: 'bind'; binding: Omit<EventData<'model.bound'>, 'modelId'> }
  | { type: 'unbind'; bindingId: string }
  | { type: 'delete' };

type Draft = { [T in ModelEventType]: { type: T; data: EventData<T> } }[ModelEventType];

const notFound = () => new InferenceError('NOT_FOUND', 'model not found');

/**
 * The model entity's decider (emmett style, as the registry's): `decide(command, state)` →
 * event drafts or an InferenceError, `evolve` folds. Pure.
 */
export const modelDecider = {
  initialState: initialModelState,
  evolve: (state: ModelState, event: ModelEvent) => evolveModel(state, event),
  decide(command: ModelCommand, state: ModelState): Draft[] {
    if (command.type === 'add-version') {
      if (state.deleted) throw notFound();
      if (state.versions.length >= MAX_VERSIONS) {
        throw new InferenceError(
          'INVALID_INPUT',
          `a model keeps at most ${MAX_VERSIONS} versions; delete it or use a new name`,
        );
      }
      const drafts: Draft[] = [];
      if (!state.exists) {
        drafts.push({
          type: 'model.created',
          data: { modelId: command.modelId, name: command.name, description: command.version.description },
        });
      }
      const version = (state.versions.at(-1)?.version ?? 0) + 1;
      drafts.push({
        type: 'model.version-added',
        data: { ...command.version, modelId: command.modelId, version },
      });
      return drafts;
    }
    if (!state.exists || state.deleted) throw notFound();
    const modelId = state.id;
    switch (command.type) {
      case 'deploy':
        if (!state.versions.some((v) => v.version === command.version)) {
          throw new InferenceError('NOT_FOUND', `the model has no version ${command.version}`);
        }
        return state.deployedVersion === command.version
          ? []
          : [{ type: 'model.deployed', data: { modelId, version: command.version } }];
      case 'undeploy':
        return state.deployedVersion === undefined ? [] : [{ type: 'model.undeployed', data: { modelId } }];
      case 'bind':
        if (state.bindings.length >= MAX_BINDINGS) {
          throw new InferenceError('INVALID_INPUT', `a model has at most ${MAX_BINDINGS} bindings`);
        }
        return [{ type: 'model.bound', data: { ...command.binding, modelId } }];
      case 'unbind':
        if (!state.bindings.some((b) => b.bindingId === command.bindingId)) {
          throw new InferenceError('NOT_FOUND', `the model has no binding ${command.bindingId}`);
        }
        return [{ type: 'model.unbound', data: { modelId, bindingId: command.bindingId } }];
      case 'delete':
        if (state.deployedVersion !== undefined) {
          throw new InferenceError(
            'INVALID_INPUT',
            `undeploy the model first (version ${state.deployedVersion} serves)`,
          );
        }
        return [{ type: 'model.deleted', data: { modelId, name: state.name } }];
    }
  },
};
