// libcoap's coap-client (Debian libcoap3-bin) as the third-party CoAP peer of the tests.
import { type ChildProcess, execFile, spawn } from 'node:child_process';

/** The client without DTLS (the bridge speaks plain CoAP; docs/coap.md). */
export const COAP_CLIENT = 'coap-client-notls';

export interface CoapClientResult {
  /** The process's exit code (0 for a 2.xx answer). */
  code: number;
  /** What it printed of the response payload (`-o -`). */
  stdout: string;
  /** libcoap's log: the response code of an error answer, e.g. `4.01 Unauthorized`. */
  stderr: string;
}

/**
 * Runs coap-client with `args` (the URI last) and resolves when it exits, whatever the code. It
 * waits 20 s at most for an answer (`-B 20`) unless `args` say otherwise.
 */
export function coapClient(args: string[], timeoutMs = 30_000): Promise<CoapClientResult> {
  return new Promise((resolve, reject) => {
    execFile(
      COAP_CLIENT,
      [...(args.includes('-B') ? [] : ['-B', '20']), ...args],
      { timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && code === -1) return reject(Object.assign(err, { stderr }));
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `coap-client -m post` of `payload` (`-e`) or a file (`-f`) with a Content-Format (`-t`). */
export function coapPost(
  uri: string,
  body: { text: string } | { file: string },
  options: { format?: number; non?: boolean; block?: number; args?: string[] } = {},
): Promise<CoapClientResult> {
  const args = ['-m', 'post', '-o', '-'];
  if (options.format !== undefined) args.push('-t', String(options.format));
  if (options.non) args.push('-N');
  if (options.block !== undefined) args.push('-b', String(options.block));
  args.push(...('text' in body ? ['-e', body.text] : ['-f', body.file]), ...(options.args ?? []), uri);
  return coapClient(args);
}

/** `coap-client -s <seconds>`: an observer printing each notification's payload on its own line. */
export function coapObserve(uri: string, seconds: number, args: string[] = []): ChildProcess {
  return spawn(COAP_CLIENT, ['-s', String(seconds), '-w', '-o', '-', ...args, uri], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
