import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { KafkaBroker } from './kafka.ts';

const kcat = (args: string[], input?: string) =>
  execFileSync('kcat', args, {
    encoding: 'utf8',
    timeout: 30_000,
    ...(input === undefined ? {} : { input }),
  });

test('a KRaft broker from the cached jars serves kcat, and keeps its log across a restart', async () => {
  const broker = await KafkaBroker.start();
  try {
    kcat(['-P', '-b', broker.bootstrap, '-t', 'harness', '-k', 'a'], 'one\n');
    await broker.pause();
    assert.equal(broker.running, false);
    await broker.start();
    kcat(['-P', '-b', broker.bootstrap, '-t', 'harness', '-k', 'b'], 'two\n');
    const out = kcat(['-C', '-b', broker.bootstrap, '-t', 'harness', '-e', '-q', '-f', '%k=%s %o\\n']);
    assert.deepEqual(out.trim().split('\n'), ['a=one 0', 'b=two 1']);
  } finally {
    await broker.stop();
  }
});
