// The machine a report was measured on: CPU, cores, memory, OS, Node, nats-server, and how
// many small synced writes its temp disk takes per second (what bounds a log that fsyncs
// every message before acknowledging it).
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { findNatsServer, natsServerVersion } from '@telly/harness';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  natsServer: string;
  /** 300-byte appends each followed by fdatasync, per second, in the temp dir (where stacks live). */
  fsyncPerSecond: number;
  /** Filled in from the stacks the scenarios started. */
  postgres: string | undefined;
}

function osName(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

/** 300-byte appends each followed by fdatasync in the temp dir, per second, over `ms`. */
export function fsyncRate(ms = 1_000): number {
  const dir = mkdtempSync(join(os.tmpdir(), 'telly-bench-fsync-'));
  try {
    const fd = openSync(join(dir, 'probe'), 'w');
    const record = Buffer.alloc(300, 1);
    let writes = 0;
    const started = performance.now();
    while (performance.now() - started < ms) {
      writeSync(fd, record);
      fdatasyncSync(fd);
      writes++;
    }
    closeSync(fd);
    return Math.round(writes / ((performance.now() - started) / 1000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  let natsServer = 'not found';
  try {
    natsServer = natsServerVersion(findNatsServer());
  } catch {}
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: osName(),
    kernel: os.release(),
    node: process.version,
    natsServer,
    fsyncPerSecond: fsyncRate(),
    postgres: undefined,
  };
}
