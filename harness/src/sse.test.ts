import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventStreamData } from './sse.ts';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

test('eventStreamData yields the data of each event, across chunk boundaries, skipping events without data', async () => {
  const body = streamOf(
    'event: next\ndata: {"a":',
    '1}\n\n: keep-alive\n\n',
    'data:x\ndata: y\n\nevent: complete\n\n',
  );
  const seen: string[] = [];
  for await (const data of eventStreamData(body)) seen.push(data);
  assert.deepEqual(seen, ['{"a":1}', 'x\ny']);
});
