import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandIdOf, encodeCommandDelivery } from './command-delivery.ts';
import { commandOutcomeOf } from './command-outcome.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

test('a result body: succeeded with its result, failed with its reason, anything else a success with that value', () => {
  assert.deepEqual(commandOutcomeOf(bytes('{"status":"succeeded","result":{"led":"on"}}')), {
    status: 'succeeded',
    result: { led: 'on' },
  });
  assert.deepEqual(commandOutcomeOf(bytes('{"status":"failed","reason":"relay stuck"}')), {
    status: 'failed',
    reason: 'relay stuck',
  });
  assert.deepEqual(commandOutcomeOf(bytes('{"status":"failed"}')), {
    status: 'failed',
    reason: 'the device reported a failure',
  });
  assert.deepEqual(commandOutcomeOf(bytes('{"status":"failed","reason":""}')), {
    status: 'failed',
    reason: 'the device reported a failure',
  });
  assert.equal(
    (commandOutcomeOf(bytes(`{"status":"failed","reason":"${'x'.repeat(2000)}"}`)) as { reason: string })
      .reason.length,
    1024,
  );
  assert.deepEqual(commandOutcomeOf(bytes('{"led":"on"}')), { status: 'succeeded' });
  assert.deepEqual(commandOutcomeOf(bytes('42')), { status: 'succeeded', result: 42 });
  assert.deepEqual(commandOutcomeOf(bytes('done')), { status: 'succeeded', result: 'done' });
});

test('a delivery encodes as JSON and its id reads back; other bytes have no id', () => {
  const delivery = { id: 'c-1', name: 'led', payload: { on: true }, expiresAt: '2030-01-01T00:00:00.000Z' };
  const encoded = encodeCommandDelivery(delivery);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(encoded)), delivery);
  assert.equal(commandIdOf(encoded), 'c-1');
  assert.equal(commandIdOf(bytes('not json')), undefined);
  assert.equal(commandIdOf(bytes('{"id":7}')), undefined);
  assert.equal(commandIdOf(bytes('null')), undefined);
});
