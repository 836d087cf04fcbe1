import type { Plugin } from 'graphql-yoga';
import { problem } from './problem.ts';

/** Requests larger than this are refused with 413 before they are parsed. @default 1 MiB */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * Refuses a request body above `limit` bytes with a 413 problem, on every route: at once when its
 * Content-Length says so, and while it streams in otherwise (chunked, or a length that lies), so
 * nothing larger is ever held. A body within the limit is handed on as the bytes read.
 */
export function useBodyLimit(limit = MAX_REQUEST_BYTES): Plugin {
  return {
    async onRequest({ request, fetchAPI, setRequest, endResponse }) {
      const tooLarge = () =>
        endResponse(problem(fetchAPI, 413, 'Content Too Large', `requests are limited to ${limit} bytes`));
      if (Number(request.headers.get('content-length') ?? 0) > limit) return tooLarge();
      if (!request.body) return;
      const body = await readAtMost(request.body, limit);
      if (!body) return tooLarge();
      setRequest(
        new fetchAPI.Request(request.url, {
          method: request.method,
          headers: request.headers,
          body,
          signal: request.signal,
        }),
      );
    },
  };
}

/** The stream's bytes, or undefined (and the stream cancelled) once they exceed `limit`. */
async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
