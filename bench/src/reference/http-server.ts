// The HTTP ingest reference: a bare node:http server that reads the request body and answers
// 202 {"id","seq"} as Telly's HTTP bridge does, and nothing else. Run as a child process (so it
// has a core of its own like the bridge); it sends its port to the parent over IPC.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let seq = 0;
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    const body = JSON.stringify({ id: randomUUID(), seq: ++seq });
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
