import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from '@telly/runtime';
import { DEFAULT_REJECTIONS_TOPIC, kafkaConfigured, parseKafkaConfig } from './config.ts';

const refused = (env: NodeJS.ProcessEnv, variable: string, message: RegExp) =>
  assert.throws(
    () => parseKafkaConfig(env),
    (err) => isConfigError(err) && err.variable === variable && message.test(err.message),
  );

test('the brokers, TLS and SASL are read from the environment, with defaults', () => {
  const config = parseKafkaConfig({ TELLY_KAFKA_BROKERS: 'kafka-1:9092, 10.0.0.2:9093,[::1]:9094' });
  assert.deepEqual(config.kafka, {
    brokers: ['kafka-1:9092', '10.0.0.2:9093', '[::1]:9094'],
    clientId: 'telly',
    tls: undefined,
    sasl: undefined,
  });
  assert.equal(config.rejectionsTopic, DEFAULT_REJECTIONS_TOPIC);
  const secure = parseKafkaConfig({
    TELLY_KAFKA_BROKERS: 'k:9093',
    TELLY_KAFKA_TLS_CA: '/etc/ca.pem',
    TELLY_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    TELLY_KAFKA_SASL_USERNAME: 'telly',
    TELLY_KAFKA_SASL_PASSWORD: 's3cret',
    TELLY_KAFKA_REJECTIONS_TOPIC: 'plant.refused',
  });
  assert.deepEqual(secure.kafka.tls, { caFile: '/etc/ca.pem' });
  assert.deepEqual(secure.kafka.sasl, { mechanism: 'scram-sha-512', username: 'telly', password: 's3cret' });
  assert.equal(secure.rejectionsTopic, 'plant.refused');
  assert.deepEqual(parseKafkaConfig({ TELLY_KAFKA_BROKERS: 'k:1', TELLY_KAFKA_TLS: 'true' }).kafka.tls, {});
  assert.equal(kafkaConfigured({}), false);
  assert.equal(kafkaConfigured({ TELLY_KAFKA_BROKERS: ' ' }), false);
  assert.equal(kafkaConfigured({ TELLY_KAFKA_BROKERS: 'k:9092' }), true);
});

test('a bad value names its variable', () => {
  refused({}, 'TELLY_KAFKA_BROKERS', /at least one broker/);
  refused({ TELLY_KAFKA_BROKERS: 'kafka' }, 'TELLY_KAFKA_BROKERS', /"kafka" is not host:port/);
  refused({ TELLY_KAFKA_BROKERS: 'k:99999' }, 'TELLY_KAFKA_BROKERS', /not host:port/);
  refused({ TELLY_KAFKA_BROKERS: 'k:1', TELLY_KAFKA_TLS: 'yes' }, 'TELLY_KAFKA_TLS', /true or false/);
  refused(
    { TELLY_KAFKA_BROKERS: 'k:1', TELLY_KAFKA_SASL_MECHANISM: 'gssapi' },
    'TELLY_KAFKA_SASL_MECHANISM',
    /plain, scram-sha-256, scram-sha-512/,
  );
  refused(
    { TELLY_KAFKA_BROKERS: 'k:1', TELLY_KAFKA_SASL_MECHANISM: 'plain', TELLY_KAFKA_SASL_USERNAME: 'u' },
    'TELLY_KAFKA_SASL_PASSWORD',
    /needed/,
  );
  refused(
    { TELLY_KAFKA_BROKERS: 'k:1', TELLY_KAFKA_SASL_USERNAME: 'u' },
    'TELLY_KAFKA_SASL_MECHANISM',
    /mechanism/,
  );
  refused(
    { TELLY_KAFKA_BROKERS: 'k:1', TELLY_KAFKA_REJECTIONS_TOPIC: 'no spaces' },
    'TELLY_KAFKA_REJECTIONS_TOPIC',
    /not a Kafka topic name/,
  );
});
