import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { isIngestError, openDeviceGateway, type RateLimiter } from '@telly/bridge-core';
import type { HealthChecks, Logger, PublisherOptions } from '@telly/runtime';
import type { AcceptPolicy } from '@telly/schemas';
import { type IncomingMessage, ObserveWriteStream, type OutgoingMessage, Server } from 'coap';
import type { Registry } from 'prom-client';
import { type Answer, diagnostic, failureAnswer } from './answer.ts';
import { patchServer, type Reassembled } from './block1-patch.ts';
import { Block1Uploads } from './block1-uploads.ts';
import {
  type CoapConfig,
  DEFAULT_COAP_MAX_OBSERVERS,
  DEFAULT_COAP_MAX_UPLOADS,
  DEFAULT_COAP_TRANSFER_TIMEOUT_MS,
} from './config.ts';
import { coapMetrics } from './metrics.ts';
import { Observations } from './observations.ts';
import { optionValues, type RequestContext, Resources } from './resources.ts';
import { authOf, parseRoute } from './routes.ts';
import { type CoapTransport, openUdpTransport } from './transport.ts';

export interface CoapBridgeOptions {
  nc: NatsConnection;
  logger: Logger;
  metrics: Registry;
  /** Gets the `credentials` check; served at `GET /healthz`. */
  health: HealthChecks;
  config: Pick<CoapConfig, 'port' | 'host'> &
    Partial<Pick<CoapConfig, 'maxObservers' | 'maxUploads' | 'transferTimeoutMs' | 'maxPayloadBytes'>>;
  rateLimiter?: RateLimiter;
  accept?: AcceptPolicy;
  /** The publisher's retry window and ack timeout. @default DEFAULT_PUBLISHER of @telly/runtime */
  publisher?: PublisherOptions;
  /** Where datagrams come from and go (a DTLS transport, one day). @default UDP on config.host:config.port */
  transport?: CoapTransport;
}

export interface CoapBridge {
  /** The bound UDP port (useful with port 0). */
  port: number;
  /**
   * Drains: requests arriving from now on are answered 5.03 (Max-Age 1); those in flight are
   * answered (stored or refused), never dropped; observations end with 5.03; then the socket closes.
   */
  close(): Promise<void>;
}

/**
 * Longest a CON request waits for its answer before node-coap would send an empty ACK and answer
 * separately. An empty ACK tells the client to stop retransmitting, which a crash would then turn
 * into a lost message; the answer must ride on the ACK, after JetStream acked. Above the
 * Publisher's retry window (10 s), below the client's MAX_TRANSMIT_WAIT (93 s).
 */
const PIGGYBACK_MS = 30_000;

/**
 * The CoAP bridge (RFC 7252) on node-coap: device messages in, observations of a channel and of a
 * thing's commands out (RFC 7641), command results, block-wise transfers both ways (RFC 7959).
 */
export async function startCoapBridge(options: CoapBridgeOptions): Promise<CoapBridge> {
  const { nc, logger, config } = options;
  const maxPayloadBytes = config.maxPayloadBytes;
  const gateway = await openDeviceGateway({
    nc,
    protocol: 'coap',
    logger,
    metrics: options.metrics,
    health: options.health,
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    ...(maxPayloadBytes ? { maxPayloadBytes } : {}),
    ...(options.accept ? { accept: options.accept } : {}),
    ...(options.publisher ? { publisher: options.publisher } : {}),
  });
  const limit = maxPayloadBytes ?? 256 * 1024;
  const metrics = coapMetrics(options.metrics);
  const transport = options.transport ?? (await openUdpTransport(config.host, config.port));
  const observations = new Observations({
    max: config.maxObservers ?? DEFAULT_COAP_MAX_OBSERVERS,
    transferTimeoutMs: config.transferTimeoutMs ?? DEFAULT_COAP_TRANSFER_TIMEOUT_MS,
    metrics,
  });
  const resources = new Resources({
    gateway,
    js: jetstream(nc),
    observations,
    health: options.health,
    logger,
    maxPayloadBytes: limit,
  });
  const uploads = new Block1Uploads({
    maxBytes: limit,
    maxUploads: config.maxUploads ?? DEFAULT_COAP_MAX_UPLOADS,
    timeoutMs: config.transferTimeoutMs ?? DEFAULT_COAP_TRANSFER_TIMEOUT_MS,
  });
  const reassembled = new WeakMap<object, Reassembled>();
  const server = new Server({ piggybackReplyMs: PIGGYBACK_MS, sendAcksForNonConfirmablePackets: true });
  patchServer(server, uploads, reassembled, {
    send: (datagram, rsinfo) => transport.socket.send(datagram, rsinfo.port, rsinfo.address),
    onAck: (packet, rsinfo) => {
      // node-coap keeps each CON it sent under `<address>:<port>/<message id>` until acknowledged
      const sent = server._lru.peek(`${rsinfo.address}:${rsinfo.port}/${packet.messageId}`) as
        | { response?: unknown }
        | undefined;
      if (sent?.response instanceof ObserveWriteStream) observations.acknowledged(sent.response);
    },
    onUploads: (count) => metrics.uploads.set(count),
    admit: async (queries) => {
      try {
        await gateway.ingest.authenticate(authOf(queries));
        return undefined;
      } catch (err) {
        const answer = failureAnswer(err, limit);
        const maxAge = answer.options?.['Max-Age'];
        return {
          code: answer.code,
          message: new TextDecoder().decode(answer.payload),
          ...(typeof maxAge === 'number' ? { maxAge } : {}),
        };
      }
    },
  });

  /** Answers in progress by exchange (endpoint, message id, token): a retransmission joins its original. */
  const inFlight = new Map<string, Promise<Answer>>();
  /** Registrations being set up (session, consumer), by exchange. */
  const registering = new Set<string>();
  let closing = false;

  const respond = (req: IncomingMessage, res: OutgoingMessage, answer: Answer, extra?: Reassembled) => {
    res.code = answer.code;
    for (const [name, value] of Object.entries(answer.options ?? {})) res.setOption(name, value);
    if (extra) res.setOption('Block1', extra.block1);
    res.end(answer.payload ? Buffer.from(answer.payload) : undefined);
    metrics.requests.inc({
      method: req.method,
      type: req._packet.confirmable ? 'CON' : 'NON',
      code: answer.code,
    });
  };

  const answerOf = async (req: IncomingMessage, extra: Reassembled | undefined): Promise<Answer> => {
    const route = parseRoute(optionValues(req, 'Uri-Path'));
    if (route.kind === 'healthz') return resources.health(req.method);
    const context: RequestContext = {
      key: authOf(optionValues(req, 'Uri-Query')),
      rsinfo: req.rsinfo,
      packet: req._packet,
      payload: req.payload ?? Buffer.alloc(0),
      contentFormat: req.headers['Content-Format'],
      receivedAt: Date.now(),
      ...(extra?.tooLarge !== undefined ? { tooLarge: extra.tooLarge } : {}),
    };
    return resources.handle(req.method, route, context, req);
  };

  server.on('request', (req: IncomingMessage, res: OutgoingMessage | ObserveWriteStream) => {
    const extra = reassembled.get(req._packet);
    const exchange = `${req.rsinfo.address}|${req.rsinfo.port}|${req._packet.messageId}|${req._packet.token?.toString('hex')}`;
    if (res instanceof ObserveWriteStream) {
      if (closing) {
        res.statusCode = '5.03';
        res.setOption('Max-Age', 1);
        res.end(Buffer.from('the bridge is shutting down; retry'));
        return;
      }
      // a retransmitted registration while the first is being set up: the first answers it
      if (registering.has(exchange)) return;
      registering.add(exchange);
      void resources
        .observe(req, res)
        .catch((err: unknown) => logger.warn({ err }, 'CoAP observation failed'))
        .finally(() => registering.delete(exchange));
      return;
    }
    const pending = inFlight.get(exchange);
    if (pending) {
      // a retransmission of a request still being handled: the same answer, stored once
      void pending.then((answer) => respond(req, res, answer, extra));
      return;
    }
    if (closing) {
      respond(req, res, diagnostic('5.03', 'the bridge is shutting down; retry', { 'Max-Age': 1 }));
      return;
    }
    const answer = answerOf(req, extra).catch((err: unknown) => {
      if (!isIngestError(err)) logger.warn({ err }, 'CoAP request failed');
      return failureAnswer(err, limit);
    });
    inFlight.set(exchange, answer);
    metrics.inFlight.set(inFlight.size);
    void answer.then((a) => {
      inFlight.delete(exchange);
      metrics.inFlight.set(inFlight.size);
      respond(req, res, a, extra);
    });
  });
  server.on('error', (err: Error) => logger.warn({ err }, 'CoAP server error'));
  server.listen(transport.socket);
  logger.info({ port: transport.port, address: transport.address }, 'CoAP bridge listening');

  return {
    port: transport.port,
    async close() {
      closing = true;
      await Promise.allSettled([...inFlight.values()]);
      // sessions end as `shutdown` (thing.offline), then their observers hear 5.03
      gateway.close();
      observations.endAll('5.03', 'the bridge is shutting down; observe again');
      // the last notifications and answers leave before the socket closes
      await new Promise<void>((resolve) => setImmediate(resolve));
      server.close();
      uploads.clear();
      await transport.close();
    },
  };
}
