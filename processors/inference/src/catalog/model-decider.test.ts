import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEvent } from '@telly/schemas';
import { isInferenceError } from '../errors.ts';
import { modelDecider } from './model-decider.ts';
import type { ModelEvent, ModelState } from './model-state.ts';

const TENANT = '0190f5b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b';
const MODEL = '0190f5b2-3c4d-7e8f-9a0b-000000000005';
const CHANNEL = '0190f5b2-3c4d-7e8f-9a0b-000000000003';
let clock = Date.UTC(2026, 11, 1);

const version = (sha: string) => ({
  sha256: `sha256:${sha.repeat(64)}`,
  bytes: 100,
  description: 'd',
  labels: [],
  inputs: [{ name: 'x', type: 'float32', shape: [-1, 1] }],
  outputs: [{ name: 'y', type: 'float32', shape: [-1, 1] }],
  preprocessing: { kind: 'tensor' as const },
  postprocessing: { kind: 'regression' as const, output: 'y' },
  source: 'upload' as const,
});

/** given events, when a command: the state after the events the decider produced. */
function run(state: ModelState, command: Parameters<typeof modelDecider.decide>[0]): ModelState {
  for (const draft of modelDecider.decide(command, state)) {
    const event = createEvent(
      draft.type,
      { tenantId: TENANT, data: draft.data as never },
      { id: '0190f5b2-3c4d-7e8f-9a0b-00000000000e', now: clock++ },
    );
    state = modelDecider.evolve(state, event as ModelEvent);
  }
  return state;
}

describe('the model decider', () => {
  it('creates, versions, deploys, rolls back, undeploys, binds and deletes', () => {
    let s = modelDecider.initialState();
    s = run(s, { type: 'add-version', modelId: MODEL, name: 'm', version: version('a') });
    assert.deepEqual([s.exists, s.name, s.versions.map((v) => v.version)], [true, 'm', [1]]);
    s = run(s, { type: 'add-version', modelId: MODEL, name: 'm', version: version('b') });
    assert.deepEqual(
      s.versions.map((v) => v.version),
      [1, 2],
    );
    s = run(s, { type: 'deploy', version: 1 });
    s = run(s, { type: 'deploy', version: 2 });
    assert.deepEqual([s.deployedVersion, s.previouslyDeployed], [2, [1]]);
    assert.deepEqual(
      modelDecider.decide({ type: 'deploy', version: 2 }, s),
      [],
      'deploying the serving version is a no-op',
    );
    assert.throws(() => run(s, { type: 'deploy', version: 9 }), /no version 9/);
    assert.throws(() => run(s, { type: 'delete' }), /undeploy the model first/);
    s = run(s, {
      type: 'bind',
      binding: { bindingId: CHANNEL, channelId: CHANNEL, thingIds: [], measurements: ['x'] },
    });
    assert.equal(s.bindings.length, 1);
    s = run(s, { type: 'unbind', bindingId: CHANNEL });
    assert.equal(s.bindings.length, 0);
    s = run(s, { type: 'undeploy' });
    assert.equal(s.deployedVersion, undefined);
    s = run(s, { type: 'delete' });
    assert.ok(s.deleted);
    assert.throws(
      () => run(s, { type: 'deploy', version: 1 }),
      (err) => isInferenceError(err, 'NOT_FOUND'),
    );
  });

  it('refuses commands on a model that does not exist', () => {
    assert.throws(
      () => modelDecider.decide({ type: 'undeploy' }, modelDecider.initialState()),
      (err) => isInferenceError(err, 'NOT_FOUND'),
    );
  });
});
