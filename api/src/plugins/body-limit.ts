import type { Plugin } from 'graphql-yoga';
import { problem } from './problem.ts';

/** Requests larger than this are refused with 413 before they are parsed. @default 1 MiB */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** What a multipart upload carries beside its file: the `operations` and `map` parts, boundaries. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

export interface BodyLimitOptions {
  /** @default MAX_REQUEST_BYTES */
  limit?: number | undefined;
  /**
   * A GraphQL multipart request (a model upload, `telly models push`) to `uploadPath` may carry a
   * file this large (`TELLY_MAX_MODEL_BYTES`), plus {@link MULTIPART_OVERHEAD_BYTES}.
   * @default the `limit`
   */
  uploadLimit?: number | undefined;
  /** The GraphQL endpoint. */
  uploadPath?: string | undefined;
}

/**
 * Refuses a request body above its limit with a 413 problem, on every route: at once when its
 * Content-Length says so, and while it streams in otherwise (chunked, or a length that lies), so
 * nothing larger is ever held. A body within the limit is handed on as the bytes read. Only a
 * multipart POST to the GraphQL endpoint, the one way a file is sent, has the upload limit.
 */
export function useBodyLimit(options: BodyLimitOptions = {}): Plugin {
  const limit = options.limit ?? MAX_REQUEST_BYTES;
  return {
    async onRequest({ request, url, fetchAPI, setRequest, endResponse }) {
      const upload =
        options.uploadLimit !== undefined &&
        request.method === 'POST' &&
        url.pathname === options.uploadPath &&
        /^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '');
      const max = upload ? (options.uploadLimit ?? 0) + MULTIPART_OVERHEAD_BYTES : limit;
      const tooLarge = () =>
        endResponse(
          problem(
            fetchAPI,
            413,
            'Content Too Large',
            upload
              ? `model uploads are limited to ${options.uploadLimit} bytes (TELLY_MAX_MODEL_BYTES)`
              : `requests are limited to ${limit} bytes`,
          ),
        );
      if (Number(request.headers.get('content-length') ?? 0) > max) return tooLarge();
      if (!request.body) return;
      const body = await readAtMost(request.body, max);
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
