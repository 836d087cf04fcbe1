/**
 * POSTs a JSON body over real HTTP in chunks, without a length: `head` (when given), then `chunk`
 * again and again until more than `bytes` were sent, or the server stopped reading.
 */
export function postChunked(
  url: string,
  body: { head?: Uint8Array; chunk: Uint8Array; bytes: number },
): Promise<Response> {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0 && body.head) controller.enqueue(body.head);
      if (sent > body.bytes) return controller.close();
      controller.enqueue(body.chunk);
      sent += body.chunk.byteLength;
    },
  });
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
}
