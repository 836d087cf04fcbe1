import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isApiRequestError } from '../api/errors.ts';
import type { Rule } from '../api/types.ts';
import { type Draft, draftOf, EMPTY_DRAFT, emptyAction, inputOf } from './rule-draft.ts';

const draft = (patch: Partial<Draft>): Draft => ({
  ...EMPTY_DRAFT,
  name: 'frost',
  thingId: 't1',
  measurement: 'air',
  value: '5',
  ...patch,
});

/** The field a draft's input is refused for, as the form shows it beside that field. */
function refusedField(d: Draft): string | undefined {
  try {
    inputOf(d);
    return undefined;
  } catch (err) {
    assert.ok(isApiRequestError(err) && err.code === 'VALIDATION_FAILED', String(err));
    return err.field;
  }
}

describe('a rule draft', () => {
  it('is the CreateRuleInput of what the form shows, and only that', () => {
    const input = inputOf(draft({ op: 'LT', clearValue: '8', value2: '99', window: '5m' }));
    assert.deepEqual(input, {
      name: 'frost',
      thingId: 't1',
      channelId: null,
      thingMetadata: null,
      measurement: 'air',
      condition: { op: 'LT', value: 5, clearValue: 8, aggregate: 'VALUE', for: null },
      severity: 'WARNING',
      message: null,
      cooldown: null,
      actions: [],
    });
  });

  it('compares EQ against text and booleans, as SenML vs and vb', () => {
    assert.equal(inputOf(draft({ op: 'EQ', value: 'open' })).condition.valueString, 'open');
    assert.equal(inputOf(draft({ op: 'NEQ', value: 'true' })).condition.valueBoolean, true);
  });

  it('names the field it cannot read, as the API would', () => {
    assert.equal(refusedField(draft({ value: 'warm' })), 'input.condition.value');
    assert.equal(refusedField(draft({ thingId: '' })), 'input.thingId');
    assert.equal(refusedField(draft({ scope: 'tenant', thingMetadata: '{"zone":' })), 'input.thingMetadata');
    const command = { ...emptyAction('command'), payload: 'on' };
    assert.equal(
      refusedField(draft({ actions: [emptyAction('email'), command] })),
      'input.actions[1].command.payload',
    );
  });

  it('sends a webhook secret only when one is entered: left blank, the webhook keeps its own', () => {
    const rule: Rule = {
      id: 'r1',
      name: 'frost',
      enabled: true,
      thingId: 't1',
      channelId: null,
      thingMetadata: null,
      measurement: 'air',
      condition: { op: 'LT', value: 5 },
      severity: 'MAJOR',
      message: '{thing} froze',
      cooldown: '10m',
      actions: [{ kind: 'webhook', url: 'https://example.com/hook', secret: true }],
    };
    const d = draftOf(rule);
    assert.deepEqual(inputOf(d).actions, [{ webhook: { url: 'https://example.com/hook' } }]);
    const secret = 'a secret of sixteen';
    assert.deepEqual(inputOf({ ...d, actions: [{ ...d.actions[0]!, secret }] }).actions, [
      { webhook: { url: 'https://example.com/hook', secret } },
    ]);
  });
});
