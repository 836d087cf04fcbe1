import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Endpoint, HealthReport, Logger } from '@telly/runtime';
import { errorPredicate, TellyError } from '@telly/schemas';
import { RestartBackoff } from './backoff.ts';
import type { ComponentEntry } from './components.ts';
import type { HostMessage, HostRequest, MetricsJson } from './ipc.ts';

const HOST = fileURLToPath(new URL('./component-host.ts', import.meta.url));
/**
 * @default time a component gets to drain before it is killed: short enough that `telly up`
 * stops within its shutdown budget; what it had not acked is redelivered after a kill
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 2_000;

/**
 * A component did not start: its message is one line naming the component and its reason
 * (`http failed to start: listen EADDRINUSE …`); `telly` prints it and exits 1.
 */
export class ComponentStartError extends TellyError<'COMPONENT_START_FAILED'> {
  constructor(message: string) {
    super('COMPONENT_START_FAILED', message);
  }
}

export const isComponentStartError = errorPredicate(ComponentStartError);

/**
 * One component in its own child process, restarted with backoff whenever it exits without
 * being asked to. Health and metrics are fetched from it over IPC.
 */
export class ComponentProcess {
  readonly entry: ComponentEntry;
  readonly #logger: Logger;
  readonly #env: NodeJS.ProcessEnv;
  readonly #backoff = new RestartBackoff();
  #child: ChildProcess | undefined;
  #ready = false;
  #stopping = false;
  #restarts = 0;
  #endpoints: Endpoint[] = [];
  #nextId = 1;
  readonly #pending = new Map<number, (message: HostMessage) => void>();

  constructor(entry: ComponentEntry, env: NodeJS.ProcessEnv, logger: Logger) {
    this.entry = entry;
    this.#env = env;
    this.#logger = logger.child({ child: entry.name });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** Where the component listens, as it reported when it became ready. */
  get endpoints(): Endpoint[] {
    return this.#endpoints;
  }

  /** Starts the child and resolves once it reported ready (rejects if it failed to start). */
  start(): Promise<void> {
    const child = fork(HOST, [this.entry.module, this.entry.exportName ?? 'component'], {
      env: this.#env,
      detached: true, // a terminal's Ctrl-C reaches the supervisor, which stops children in order
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child = child;
    // an IPC message to a child that is exiting fails with EPIPE: the exit handler restarts it,
    // and the supervisor must not die of the unhandled 'error' event meanwhile
    child.on('error', (err) => this.#logger.warn({ err }, 'component process error'));
    this.#ready = false;
    this.#backoff.started();
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message: HostMessage) => {
        if (message.type === 'ready') {
          this.#ready = true;
          this.#endpoints = message.endpoints;
          resolve();
        } else if (message.type === 'failed') {
          reject(new ComponentStartError(`${this.entry.name} failed to start: ${message.error}`));
        } else {
          this.#pending.get(message.id)?.(message);
          this.#pending.delete(message.id);
        }
      });
      child.once('exit', (code, signal) => {
        this.#ready = false;
        reject(
          new ComponentStartError(
            `${this.entry.name} exited before it was ready (code ${code}, signal ${signal})`,
          ),
        );
        if (this.#stopping || this.#child !== child) return;
        const delay = this.#backoff.next();
        this.#restarts++;
        this.#logger.error({ code, signal, restartInMs: delay }, 'component exited; restarting');
        setTimeout(() => {
          if (!this.#stopping)
            this.start().catch((err: unknown) => this.#logger.error({ err }, 'restart failed'));
        }, delay);
      });
    });
    return ready;
  }

  #request(type: 'health' | 'metrics'): Promise<HostMessage | undefined> {
    const child = this.#child;
    if (!child?.connected || !this.#ready) return Promise.resolve(undefined);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(undefined);
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      child.send({ id, type } satisfies HostRequest);
    });
  }

  async health(): Promise<HealthReport> {
    const answer = await this.#request('health');
    if (answer?.type === 'health') return answer.report;
    return {
      status: 'down',
      checks: { process: { status: 'down', detail: this.#ready ? 'no answer' : 'not running' } },
    };
  }

  async metrics(): Promise<MetricsJson> {
    const answer = await this.#request('metrics');
    return answer?.type === 'metrics' ? answer.metrics : [];
  }

  /** Kills the component at once (SIGKILL) and does not restart it: a second Ctrl-C. */
  kill(): void {
    this.#stopping = true;
    this.#child?.kill('SIGKILL');
  }

  /** Asks the component to drain, then kills it if it has not exited in time. */
  async stop(timeoutMs = DEFAULT_DRAIN_TIMEOUT_MS): Promise<void> {
    this.#stopping = true;
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'stop' } satisfies HostRequest);
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
