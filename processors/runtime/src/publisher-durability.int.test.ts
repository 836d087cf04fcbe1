// An ack never leaves nats-server before the fsync that covers its message: the managed
// nats-server (with Telly's group-commit patch, deploy/nats/) runs under strace, the Publisher
// keeps hundreds of publishes in flight, and the syscalls are checked in the order the kernel
// saw them: for every acknowledged message, the `pwrite64` that put it into a block file, then an
// `fsync` of that file begun after it and finished, and only then the socket write carrying its
// ack. The same check run against a server that acks without syncing (`sync_interval: 2m`)
// must report violations: the check can fail.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { findNatsServer, freePort, httpOk, waitFor } from '@telly/harness';
import { Publisher } from './publisher.ts';
import { ensureTopology } from './topology.ts';

const MESSAGES = 2_000;

interface Syscall {
  name: string;
  /** fd annotation and arguments as strace printed them (-yy), data included. */
  text: string;
  /** Position of the syscall's entry and of its return in the order strace observed them. */
  entry: number;
  exit: number;
}

/** The syscalls of an `strace -f` log, with `<unfinished ...>` / `resumed` pairs joined. */
function parseTrace(log: string): Syscall[] {
  const calls: Syscall[] = [];
  const open = new Map<string, Syscall>();
  let position = 0;
  for (const line of log.split('\n')) {
    const m = /^(\d+) +(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, rest] = m as unknown as [string, string, string];
    position++;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const call = open.get(pid);
      if (call) {
        call.text += resumed[2];
        call.exit = position;
        open.delete(pid);
      }
      continue;
    }
    const start = /^(\w+)\((.*)$/.exec(rest);
    if (!start) continue;
    const call: Syscall = { name: start[1]!, text: start[2]!, entry: position, exit: position };
    calls.push(call);
    if (rest.endsWith('<unfinished ...>')) open.set(pid, call);
  }
  return calls;
}

/** The file a syscall's first argument names (`7</path/1.blk>` with -yy). */
const fileOf = (call: Syscall): string | undefined => /^\d+<([^>]+)>/.exec(call.text)?.[1];

/** The data a write passes, as strace printed it (escapes kept): every iovec of a writev joined. */
function dataOf(call: Syscall): string {
  const strings = /"((?:[^"\\]|\\.)*)"/g;
  const parts = [...call.text.matchAll(strings)].map((m) => m[1]!);
  return call.name === 'writev' ? parts.join('') : (parts[0] ?? '');
}

/**
 * For each number the pattern captures in the bytes written to one file or socket (the calls'
 * data joined in order, so that a frame split across writes or iovecs is found), the call that
 * wrote the match's last byte, the first time.
 */
function callPerMatch(calls: Syscall[], pattern: RegExp): Map<number, Syscall> {
  const found = new Map<number, Syscall>();
  const byFile = Map.groupBy(calls, (c) => fileOf(c) ?? '');
  for (const sameFile of byFile.values()) {
    let stream = '';
    const starts: number[] = [];
    for (const call of sameFile) {
      starts.push(stream.length);
      stream += dataOf(call);
    }
    for (const m of stream.matchAll(pattern)) {
      const n = Number(m[1]);
      if (found.has(n)) continue;
      const last = m.index + m[0].length - 1;
      let k = starts.length - 1;
      while (k > 0 && starts[k]! > last) k--;
      found.set(n, sameFile[k]!);
    }
  }
  return found;
}

interface TraceResult {
  messages: number;
  fsyncs: number;
  violations: string[];
}

/** Publishes under strace with the given `sync_interval` and checks write → fsync → ack. */
async function tracedRun(syncInterval: string): Promise<TraceResult> {
  const dir = await mkdtemp(join(tmpdir(), 'telly-durability-'));
  const traceFile = join(dir, 'trace.log');
  const [port, httpPort] = [await freePort(), await freePort()];
  const config = join(dir, 'nats-server.conf');
  await writeFile(
    config,
    [
      'host: "127.0.0.1"',
      `port: ${port}`,
      `http: "127.0.0.1:${httpPort}"`,
      `jetstream { store_dir: ${JSON.stringify(join(dir, 'store'))}, sync_interval: ${JSON.stringify(syncInterval)} }`,
    ].join('\n'),
  );
  const strace = spawn(
    'strace',
    [
      ...['-f', '-qq', '-yy', '-s', '1000000', '-o', traceFile],
      ...['-e', 'trace=pwrite64,write,writev,fsync,fdatasync', '-e', 'signal=none'],
      ...[findNatsServer(), '-c', config],
    ],
    { stdio: 'ignore' },
  );
  const exited = once(strace, 'exit');
  try {
    await waitFor(() => httpOk(`http://127.0.0.1:${httpPort}/healthz?js-enabled-only=true`), {
      what: 'nats-server under strace ready',
      giveUp: () =>
        strace.exitCode !== null ? new Error(`strace exited with ${strace.exitCode}`) : undefined,
    });
    const nc = await connect({ servers: `nats://127.0.0.1:${port}` });
    const seqOf = new Map<number, number>();
    try {
      await ensureTopology(nc, await jetstreamManager(nc));
      const publisher = new Publisher(nc, { maxInFlight: 512 });
      const padding = 'x'.repeat(200);
      await Promise.all(
        Array.from({ length: MESSAGES }, (_, i) =>
          publisher
            .publish(`msg.t.c.th${i % 50}`, `dur-${i}-${padding}`, { msgId: `m${i}` })
            .then((ack) => seqOf.set(i, ack.seq)),
        ),
      );
    } finally {
      await nc.close();
    }
    // the server is strace's child: stop it (strace ignores SIGTERM), strace exits with it
    const children = await readFile(`/proc/${strace.pid}/task/${strace.pid}/children`, 'utf8');
    for (const pid of children.trim().split(/\s+/).filter(Boolean)) process.kill(Number(pid), 'SIGTERM');
    await exited;

    const calls = parseTrace(await readFile(traceFile, 'utf8'));
    const blockWrites = calls.filter((c) => c.name === 'pwrite64' && /\.blk>/.test(c.text));
    const fsyncs = calls.filter(
      (c) => (c.name === 'fsync' || c.name === 'fdatasync') && /\.blk>/.test(c.text),
    );
    const socketWrites = calls.filter(
      (c) => (c.name === 'write' || c.name === 'writev') && /<TCP/.test(c.text),
    );
    const writeOf = callPerMatch(blockWrites, /dur-(\d+)-/g);
    // an ack as strace prints it: {\"stream\":\"MESSAGES\",\"seq\":42}
    const ackOf = callPerMatch(socketWrites, /\\"seq\\":(\d+)[},]/g);
    const violations: string[] = [];
    for (const [i, seq] of seqOf) {
      const written = writeOf.get(i);
      const acked = ackOf.get(seq);
      if (!written || !acked) {
        violations.push(
          `message ${i} (seq ${seq}): ${written ? '' : 'no block write '}${acked ? '' : 'no ack write'} in the trace`,
        );
        continue;
      }
      const file = fileOf(written);
      const synced = fsyncs.find((c) => c.entry > written.exit && fileOf(c) === file);
      if (!synced || synced.exit > acked.entry) {
        violations.push(
          `message ${i} (seq ${seq}) acked before ${synced ? 'its fsync returned' : 'any fsync of its block'}`,
        );
      }
    }
    return { messages: seqOf.size, fsyncs: fsyncs.length, violations };
  } finally {
    if (strace.exitCode === null) {
      strace.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

test('an ack never leaves nats-server before the fsync that covers its message, and groups share fsyncs', async (t) => {
  const always = await tracedRun('always');
  t.diagnostic(`sync_interval always: ${always.messages} acks, ${always.fsyncs} fsyncs of block files`);
  assert.equal(always.messages, MESSAGES);
  assert.deepEqual(always.violations.slice(0, 5), [], `${always.violations.length} acks before durability`);
  assert.ok(
    always.fsyncs < MESSAGES / 2,
    `with ${MESSAGES} publishes in flight, messages share fsyncs (${always.fsyncs} fsyncs)`,
  );

  // the same check on a server that acks before syncing finds it out
  const relaxed = await tracedRun('2m');
  t.diagnostic(`sync_interval 2m: ${relaxed.violations.length} of ${relaxed.messages} acks before any fsync`);
  assert.equal(relaxed.messages, MESSAGES);
  assert.ok(
    relaxed.violations.length > MESSAGES / 2,
    `sync_interval 2m: most acks precede any fsync (${relaxed.violations.length} found)`,
  );
});
