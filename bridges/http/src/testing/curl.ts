// curl as the third-party HTTP client of the integration tests.
import { execFile } from 'node:child_process';

/** The system curl. */
export const CURL = '/usr/bin/curl';

export interface CurlResponse {
  status: number;
  /** Header names lower-cased; the last response's only (after any `100 Continue`). */
  headers: Record<string, string>;
  body: string;
  /** The body as JSON (problem details, `{id, seq}`). */
  json<T = Record<string, unknown>>(): T;
}

/** Runs curl with `args` (URL included) and parses the one response it printed with `-i`. */
export async function curl(args: string[]): Promise<CurlResponse> {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(CURL, ['-sS', '-i', ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, out, stderr) =>
      err ? reject(Object.assign(err, { stderr })) : resolve(out),
    ),
  );
  return parseResponse(stdout);
}

/** Parses what `curl -i` printed for one request: the final response after any `1xx`. */
export function parseResponse(text: string): CurlResponse {
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    const head = end === -1 ? rest : rest.slice(0, end);
    const body = end === -1 ? '' : rest.slice(end + 4);
    const [statusLine = '', ...lines] = head.split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    if (status >= 100 && status < 200) {
      rest = body;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status, headers, body, json: <T>() => JSON.parse(body) as T };
  }
}

/** `curl -X POST` of `body` (a string, or `@file`) to `url` with a content type and extra headers. */
export function post(
  url: string,
  options: {
    key?: string;
    auth?: string;
    contentType?: string | undefined;
    body: string;
    headers?: string[];
    /** More curl options, e.g. `--limit-rate`. */
    args?: string[];
  },
): Promise<CurlResponse> {
  const args = ['-X', 'POST', url, '--data-binary', options.body];
  if (options.contentType !== undefined) args.push('-H', `Content-Type: ${options.contentType}`);
  const auth = options.auth ?? (options.key === undefined ? undefined : `Thing ${options.key}`);
  if (auth !== undefined) args.push('-H', `Authorization: ${auth}`);
  for (const header of options.headers ?? []) args.push('-H', header);
  args.push(...(options.args ?? []));
  return curl(args);
}
