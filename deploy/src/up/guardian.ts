// Entry of `telly up`'s guardian: `node guardian.ts`, forked with an IPC channel. It outlives a
// supervisor killed with SIGKILL (which cannot clean up) and stops the managed nats-server and
// Postgres then, so that no server is left holding the ports and the data dir.
import type { GuardianMessage } from './ipc.ts';

/** @default grace period the servers get before SIGKILL once the supervisor is gone */
export const GUARDIAN_GRACE_MS = 10_000;

const watched = new Map<string, { pid: number; signal: NodeJS.Signals }>();
let released = false;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
};

process.on('message', (message: GuardianMessage) => {
  if (message.type === 'watch') watched.set(message.name, { pid: message.pid, signal: message.signal });
  else if (message.type === 'release') released = true;
});
process.on('disconnect', () => {
  if (released) process.exit(0);
  for (const { pid, signal: sig } of watched.values()) signal(pid, sig);
  const deadline = Date.now() + GUARDIAN_GRACE_MS;
  const poll = setInterval(() => {
    const left = [...watched.values()].filter(({ pid }) => alive(pid));
    if (left.length === 0 || Date.now() > deadline) {
      for (const { pid } of left) signal(pid, 'SIGKILL');
      clearInterval(poll);
      process.exit(0);
    }
  }, 100);
});
