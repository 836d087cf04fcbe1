// Starts and stops the bare HTTP reference server (http-server.ts) as a child process.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./http-server.ts', import.meta.url));

export interface BareHttpServer extends AsyncDisposable {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startBareHttpServer(): Promise<BareHttpServer> {
  const child: ChildProcess = fork(SERVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the reference HTTP server exited with ${code}`);
    }),
  ])) as [{ port: number }];
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  return { url: `http://127.0.0.1:${message.port}`, pid: child.pid!, stop, [Symbol.asyncDispose]: stop };
}
