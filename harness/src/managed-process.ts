import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { waitFor } from './wait.ts';

/** Processes still running, killed if this Node process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

const LOG_TAIL_LINES = 200;
/** @default grace period before SIGKILL when stopping */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** Grace period of a process that failed to become ready: it holds nothing worth a clean stop. */
const LAUNCH_FAILED_STOP_TIMEOUT_MS = 2_000;

export interface ManagedProcessOptions {
  /** Short name used in logs and errors, e.g. `nats-server`. */
  name: string;
  command: string;
  args: string[];
  spawn?: SpawnOptions;
  /** Signal that asks the process to shut down cleanly. @default 'SIGTERM' */
  stopSignal?: NodeJS.Signals;
  /** Receives each line the process prints (stdout and stderr). */
  onLine?: (line: string) => void;
}

/**
 * One real server process: started, watched, stopped with a grace period, killable on demand.
 * Emits `exit` with `(code, signal, expected)` where `expected` is true after {@link stop}.
 */
export class ManagedProcess extends EventEmitter<{
  exit: [code: number | null, signal: NodeJS.Signals | null, expected: boolean];
}> {
  readonly options: ManagedProcessOptions;
  #child: ChildProcess | undefined;
  #stopping = false;
  #exited: Promise<void> = Promise.resolve();
  readonly #tail: string[] = [];

  constructor(options: ManagedProcessOptions) {
    super();
    this.options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines the process printed, for error messages. */
  get logTail(): string {
    return this.#tail.join('\n');
  }

  start(): void {
    if (this.running) return;
    this.#stopping = false;
    const child = spawn(this.options.command, this.options.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...this.options.spawn,
    });
    this.#child = child;
    live.add(child);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length === 0) continue;
        this.#tail.push(line);
        if (this.#tail.length > LOG_TAIL_LINES) this.#tail.shift();
        this.options.onLine?.(line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.#exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.#tail.push(`spawn error: ${err.message}`);
      });
      child.once('close', (code, signal) => {
        live.delete(child);
        this.emit('exit', code, signal, this.#stopping);
        resolve();
      });
    });
  }

  /**
   * Starts the process and resolves once `ready()` holds. Rejects as soon as the process exits
   * (with its last lines), or when it is not ready within `timeoutMs`; either way the process is
   * stopped first, so a failed start leaves nothing running.
   */
  async launch(
    ready: () => Promise<boolean> | boolean,
    { timeoutMs, intervalMs }: { timeoutMs: number; intervalMs?: number },
  ): Promise<void> {
    const { name } = this.options;
    this.start();
    try {
      await waitFor(ready, {
        what: `${name} ready`,
        timeoutMs,
        ...(intervalMs === undefined ? {} : { intervalMs }),
        giveUp: () => (this.running ? undefined : new Error(`${name} exited:\n${this.logTail}`)),
      });
    } catch (err) {
      await this.stop(LAUNCH_FAILED_STOP_TIMEOUT_MS);
      throw err;
    }
  }

  /** Asks the process to stop, and kills it if it has not exited after `timeoutMs`. */
  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return this.#exited;
    this.#stopping = true;
    child.kill(this.options.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Sends `signal` without marking the exit as expected (tests simulate crashes with it). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.#child?.kill(signal);
    await this.#exited;
  }

  /** Resolves when the current process has exited. */
  exited(): Promise<void> {
    return this.#exited;
  }
}
