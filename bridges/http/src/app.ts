import { DEFAULT_MAX_PAYLOAD_BYTES, type Ingest } from '@telly/bridge-core';
import type { ComponentContext, HealthChecks, Logger } from '@telly/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { MESSAGE_CONTENT_TYPES } from './content-types.ts';
import { problem, problemOf, sendProblem } from './problem.ts';
import { registerMessageRoutes } from './routes/messages.ts';

/**
 * How long an idle keep-alive connection stays open: above the 60 s idle timeout of common load
 * balancers, so the bridge never closes a connection a balancer is about to reuse. @default 65 s
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Longest a device may take to send a whole request (slow links, not slowloris). @default 60 s */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Longest route parameter: a channel id, or a whole subtopic. @default 1024 */
export const DEFAULT_MAX_PARAM_LENGTH = 1024;

/** A prom-client registry (the component's own). */
export type MetricsRegistry = ComponentContext['metrics'];

/** What {@link buildHttpBridge} is built from. */
export interface HttpBridgeOptions {
  /** The shared ingest path, built for protocol `http`. */
  ingest: Ingest;
  logger: Logger;
  /** Served at `GET /metrics`. */
  metricsRegistry: MetricsRegistry;
  /** Served at `GET /healthz`: 200 when every check is up, 503 otherwise. */
  health: HealthChecks;
  /** Serve HTTPS with this PEM certificate chain and key instead of HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** Bodies above this are refused with 413; keep it equal to the Ingest's. @default DEFAULT_MAX_PAYLOAD_BYTES */
  maxPayloadBytes?: number;
  /** @default {@link DEFAULT_KEEP_ALIVE_TIMEOUT_MS} */
  keepAliveTimeoutMs?: number;
  /** @default {@link DEFAULT_REQUEST_TIMEOUT_MS} */
  requestTimeoutMs?: number;
}

/**
 * The HTTP bridge's Fastify instance. Typed as the HTTP flavour; with `tls` its `server` is an
 * `https.Server` (a subclass with the same listening API).
 */
export type HttpBridge = FastifyInstance;

/**
 * The HTTP bridge, not yet listening: device messages in (`routes/messages.ts`), `/healthz` and
 * `/metrics`, every error as `application/problem+json`. `close()` drains: it stops accepting,
 * lets in-flight requests finish (their publishes are acked or refused, never dropped) and answers
 * 503 with `Retry-After` to requests that arrive meanwhile on connections already open.
 */
export function buildHttpBridge(options: HttpBridgeOptions): HttpBridge {
  const bodyLimit = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const app = Fastify({
    // `https: null` is plain HTTP; one call keeps one instance type for both
    https: options.tls ? { cert: options.tls.cert, key: options.tls.key } : null,
    // Fastify's own logger type, so the instance has the plain FastifyInstance type
    loggerInstance: options.logger as FastifyBaseLogger,
    // a line per device message is the metrics' job, not the log's; errors are still logged
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    // requests arriving on open connections while draining get a 503 problem (with Retry-After) from
    // the hook below instead of Fastify's plain JSON one
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: DEFAULT_MAX_PARAM_LENGTH },
  });

  // every body arrives as bytes, whatever its type: Ingest decides what it accepts
  app.removeAllContentTypeParsers();
  const raw = (_request: unknown, body: Buffer, done: (err: null, body: Buffer) => void) => done(null, body);
  app.addContentTypeParser([...MESSAGE_CONTENT_TYPES], { parseAs: 'buffer' }, raw);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, raw);

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    return sendProblem(reply, problem(503, 'unavailable', 'the bridge is shutting down; retry'), 1);
  });

  registerMessageRoutes(app, options.ingest);

  app.get('/healthz', async (_request, reply) => {
    const report = await options.health.report();
    return reply.code(report.status === 'down' ? 503 : 200).send(report);
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(options.metricsRegistry.contentType).send(await options.metricsRegistry.metrics()),
  );

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(404, 'not-found', `no route ${request.method} ${request.url.split('?', 1)[0]}`),
    ),
  );
  app.setErrorHandler((err, request, reply) => {
    const { problem, retryAfter } = problemOf(err);
    if (problem.status >= 500) request.log.error({ err }, 'request failed');
    return sendProblem(reply, problem, retryAfter);
  });
  return app;
}
