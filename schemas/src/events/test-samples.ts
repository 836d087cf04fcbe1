// Test data only (not exported from the package): one valid `data` per event type. The mapped
// type makes a new event type without a sample a compile error.
import type { EventData, EventType } from './catalog.ts';

export const TENANT = '0190f5b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b';
export const USER = '0190f5b2-3c4d-7e8f-9a0b-000000000001';
export const THING = '0190f5b2-3c4d-7e8f-9a0b-000000000002';
export const CHANNEL = '0190f5b2-3c4d-7e8f-9a0b-000000000003';
export const RULE = '0190f5b2-3c4d-7e8f-9a0b-000000000004';
export const MODEL = '0190f5b2-3c4d-7e8f-9a0b-000000000005';
export const COMMAND = '0190f5b2-3c4d-7e8f-9a0b-000000000006';
export const APIKEY = '0190f5b2-3c4d-7e8f-9a0b-000000000007';
export const EVENT_ID = '0190f5b2-3c4d-7e8f-9a0b-00000000000e';
export const NOW = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

const HASH = `sha256:${'ab'.repeat(32)}`;
const PASSWORD_HASH = '$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA';

export const SAMPLE_DATA: { readonly [K in EventType]: EventData<K> } = {
  'tenant.created': { name: 'Acme' },
  'tenant.renamed': { name: 'Acme Corp' },
  'tenant.deleted': {},
  'user.registered': {
    userId: USER,
    email: 'ada@example.com',
    passwordHash: PASSWORD_HASH,
    roles: ['owner'],
  },
  'user.role-granted': { userId: USER, role: 'admin' },
  'user.role-revoked': { userId: USER, role: 'admin' },
  'user.password-changed': { userId: USER, passwordHash: PASSWORD_HASH },
  'user.deleted': { userId: USER },
  'thing.created': { thingId: THING, name: 'boiler', keyHash: HASH, metadata: { floor: 2 } },
  'thing.updated': { thingId: THING, name: 'boiler 2' },
  'thing.key-rotated': { thingId: THING, keyHash: HASH },
  'thing.enabled': { thingId: THING },
  'thing.disabled': { thingId: THING },
  'thing.rate-limit-set': { thingId: THING, perSecond: 1000, burst: 2000 },
  'thing.rate-limit-cleared': { thingId: THING },
  'thing.deleted': { thingId: THING },
  'model.created': { modelId: MODEL, name: 'digits', description: 'MNIST digits' },
  'model.version-added': {
    modelId: MODEL,
    version: 1,
    sha256: HASH,
    bytes: 204982,
    description: 'MNIST digits',
    labels: ['0', '1'],
    inputs: [{ name: 'image', type: 'float32', shape: [-1, 784] }],
    outputs: [{ name: 'probabilities', type: 'float32', shape: [-1, 10] }],
    preprocessing: { kind: 'image', width: 28, height: 28, grayscale: true, scale: [0, 1], invert: false },
    postprocessing: { kind: 'classification', output: 'probabilities', topK: 3 },
    source: 'upload',
  },
  'model.deployed': { modelId: MODEL, version: 1 },
  'model.undeployed': { modelId: MODEL },
  'model.bound': {
    modelId: MODEL,
    bindingId: EVENT_ID,
    channelId: CHANNEL,
    thingIds: [],
    measurements: ['image'],
  },
  'model.unbound': { modelId: MODEL, bindingId: EVENT_ID },
  'model.deleted': { modelId: MODEL, name: 'digits' },
  'thing.connected': { thingId: THING, channelId: CHANNEL },
  'thing.disconnected': { thingId: THING, channelId: CHANNEL },
  'channel.created': { channelId: CHANNEL, name: 'heating', metadata: {} },
  'channel.updated': { channelId: CHANNEL, metadata: { site: 'north' } },
  'channel.deleted': { channelId: CHANNEL },
  'apikey.created': {
    apikeyId: APIKEY,
    name: 'ci',
    keyHash: HASH,
    role: 'viewer',
    expiresAt: '2026-01-01T00:00:00.000Z',
  },
  'apikey.revoked': { apikeyId: APIKEY },
  'bootstrap.configured': {
    thingId: THING,
    externalId: 'aa:bb:cc:dd:ee:ff',
    externalKeyHash: HASH,
    channels: [CHANNEL],
    content: '{"interval":60}',
  },
  'bootstrap.removed': { thingId: THING, externalId: 'aa:bb:cc:dd:ee:ff' },
  'command.requested': {
    commandId: COMMAND,
    thingId: THING,
    name: 'reboot',
    payload: { delay: 5 },
    expiresAt: '2025-01-02T03:09:05.678Z',
  },
  'command.delivered': { commandId: COMMAND, thingId: THING, protocol: 'mqtt' },
  'command.succeeded': { commandId: COMMAND, thingId: THING, result: 'ok' },
  'command.failed': { commandId: COMMAND, thingId: THING, reason: 'busy' },
  'command.expired': { commandId: COMMAND, thingId: THING },
  'alert.raised': {
    ruleId: RULE,
    thingId: THING,
    channelId: CHANNEL,
    name: 'urn:dev:mac:0024befffe804ff1:temp',
    value: 93.5,
    threshold: 90,
    severity: 'critical',
    message: 'temperature above 90',
  },
  'alert.resolved': {
    ruleId: RULE,
    thingId: THING,
    channelId: CHANNEL,
    name: 'urn:dev:mac:0024befffe804ff1:temp',
    value: 85,
    threshold: 90,
    severity: 'critical',
    message: 'temperature back below 90',
  },
  'inference.completed': {
    modelId: MODEL,
    modelVersion: 3,
    thingId: THING,
    channelId: CHANNEL,
    messageSeq: 42,
    predictions: [
      { label: 'cat', probability: 0.9 },
      { label: 'dog', probability: 0.08 },
    ],
  },
  'inference.failed': {
    modelId: MODEL,
    modelVersion: 3,
    thingId: THING,
    channelId: CHANNEL,
    reason: 'bad input shape',
  },
  'message.rejected': { protocol: 'http', thingId: THING, reason: 'invalid-payload', detail: 'not SenML' },
  'thing.online': { thingId: THING, protocol: 'mqtt', remoteAddress: '203.0.113.7:51234' },
  'thing.offline': {
    thingId: THING,
    protocol: 'mqtt',
    remoteAddress: '203.0.113.7:51234',
    reason: 'keepalive-timeout',
  },
};
