import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelTopic, commandTopic, parseMqttTopic } from './topics.ts';

const THING = '0190b8a0-0000-7000-8000-000000000001';
const COMMAND = '0190b8a0-0000-7000-8000-000000000002';
const CHANNEL = '0190b8a0-0000-7000-8000-000000000003';

test('publish topics: channel messages (with subtopic and content-type suffix) and command results', () => {
  assert.deepEqual(parseMqttTopic(`channels/${CHANNEL}/messages`, 'publish'), {
    kind: 'messages',
    channelId: CHANNEL,
    subtopic: [],
    contentType: undefined,
  });
  assert.deepEqual(
    parseMqttTopic(`channels/${CHANNEL}/messages/soil/north/ct/application_senml-json`, 'publish'),
    {
      kind: 'messages',
      channelId: CHANNEL,
      subtopic: ['soil', 'north'],
      contentType: 'application/senml+json',
    },
  );
  assert.deepEqual(parseMqttTopic(`things/${THING}/commands/${COMMAND}/result`, 'publish'), {
    kind: 'command-result',
    thingId: THING,
    commandId: COMMAND,
  });
});

test('publish topics that name nothing are invalid, with an INVALID_TOPIC or token error', () => {
  for (const topic of [
    'devices/x',
    `channels/${CHANNEL}`,
    `channels/${CHANNEL}/messages/a//b`,
    `channels/${CHANNEL}/messages/+`,
    `things/${THING}/commands`,
    `things/${THING}/commands/${COMMAND}`,
    `things/${THING}/commands/${COMMAND}/result/more`,
    `things/${THING}/commands/not-an-id/result`,
    `things/NOT-AN-ID/commands/${COMMAND}/result`,
  ]) {
    const parsed = parseMqttTopic(topic, 'publish');
    assert.equal(parsed.kind, 'invalid', topic);
    if (parsed.kind === 'invalid') assert.ok(parsed.error.code, topic);
  }
});

test('subscription filters: a channel (any filter below messages) and the thing’s command topic', () => {
  for (const filter of [
    `channels/${CHANNEL}/messages`,
    `channels/${CHANNEL}/messages/#`,
    `channels/${CHANNEL}/messages/+/temp`,
  ]) {
    assert.deepEqual(parseMqttTopic(filter, 'subscribe'), { kind: 'messages', channelId: CHANNEL }, filter);
  }
  assert.deepEqual(parseMqttTopic(commandTopic(THING), 'subscribe'), { kind: 'commands', thingId: THING });
  assert.deepEqual(parseMqttTopic(`${commandTopic(THING)}/#`, 'subscribe'), {
    kind: 'commands',
    thingId: THING,
  });
  for (const filter of [
    '#',
    'channels/#',
    `things/${THING}/commands/+/result`,
    'things/+/commands',
    `x/${CHANNEL}/messages`,
  ]) {
    assert.equal(parseMqttTopic(filter, 'subscribe').kind, 'invalid', filter);
  }
});

test('the topics the bridge publishes on parse back to what they were built from', () => {
  assert.equal(commandTopic(THING), `things/${THING}/commands`);
  assert.equal(channelTopic(CHANNEL, ['soil']), `channels/${CHANNEL}/messages/soil`);
  assert.deepEqual(parseMqttTopic(channelTopic(CHANNEL, ['a', 'b']), 'publish'), {
    kind: 'messages',
    channelId: CHANNEL,
    subtopic: ['a', 'b'],
    contentType: undefined,
  });
});
