import type { AddressInfo } from 'node:net';
import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import {
  commandOutcomeOf,
  type DeviceGateway,
  type DeviceSession,
  encodeCommandDelivery,
  IngestError,
  isIngestError,
  MESSAGE_HEADERS,
} from '@telly/bridge-core';
import { type HealthChecks, type Logger, redriveTargetOf } from '@telly/runtime';
import { keyHash, messageFilters, parseSubject, STREAMS } from '@telly/schemas';
import type { CoapPacket, IncomingMessage, ObserveWriteStream } from 'coap';
import { type Answer, CODES, diagnostic, failureAnswer } from './answer.ts';
import { readBlockOption } from './block-option.ts';
import { contentTypeOf, FORMAT_NUMBER } from './content-format.ts';
import { coapMessageId } from './message-id.ts';
import type { Observation } from './observation.ts';
import type { Observations } from './observations.ts';
import { authOf, parseRoute, type Route } from './routes.ts';

/** What a handler needs of one request. */
export interface RequestContext {
  key: string;
  rsinfo: AddressInfo;
  packet: CoapPacket;
  payload: Buffer;
  /** The Content-Format option as node-coap parsed it (media type, or a number it does not know). */
  contentFormat: unknown;
  receivedAt: number;
  /** A Block1 upload that went over the limit, with the bytes it reached. */
  tooLarge?: number;
}

export interface ResourcesOptions {
  gateway: DeviceGateway;
  js: JetStreamClient;
  observations: Observations;
  health: HealthChecks;
  logger: Logger;
  maxPayloadBytes: number;
}

const JSON_FORMAT = FORMAT_NUMBER['application/json'] as number;
const EMPTY = new Uint8Array(0);

/** The values of a repeatable option (Uri-Path, Uri-Query), as node-coap converted them. */
export const optionValues = (req: IncomingMessage, name: string): string[] =>
  (req._packet.options ?? []).filter((o) => o.name === name).map((o) => String(o.value));

/** `address|port|/path?query`: one observation, and one block-wise representation, per endpoint and URI. */
export const observationKey = (rsinfo: AddressInfo, req: IncomingMessage): string =>
  `${rsinfo.address}|${rsinfo.port}|${req.url}`;

/**
 * The bridge's resources: `POST /channels/{channel}/messages[/…]` (publish), `GET` of it with
 * Observe (what other things publish there), `GET /things/{thing}/commands` with Observe (the
 * thing's commands), `POST /things/{thing}/commands/{command}/result` (their outcome) and
 * `GET /healthz`. Every one authenticates with `?auth=<thing key>`.
 */
export class Resources {
  readonly #o: ResourcesOptions;
  /** Open sessions of things observing their commands: a result is reported through one. */
  readonly #commandSessions = new Map<string, Set<DeviceSession>>();

  constructor(options: ResourcesOptions) {
    this.#o = options;
  }

  async health(method: string): Promise<Answer> {
    if (method !== 'GET') return diagnostic('4.05', 'GET /healthz');
    const report = await this.#o.health.report();
    // the status alone: an unauthenticated request over UDP must not get a large answer (a
    // spoofed source would turn it into reflection, RFC 7252 §11.3); the detail is telly up's /healthz
    return {
      code: report.status === 'down' ? '5.03' : '2.05',
      payload: new TextEncoder().encode(JSON.stringify({ status: report.status })),
      options: { 'Content-Format': JSON_FORMAT },
    };
  }

  /** Answers a request that is not an observation registration. */
  async handle(method: string, route: Route, request: RequestContext, req: IncomingMessage): Promise<Answer> {
    if (route.kind === 'messages' && method === 'POST') return this.#publish(route, request);
    if (route.kind === 'result' && method === 'POST') return this.#result(route, request);
    if ((route.kind === 'messages' || route.kind === 'commands') && method === 'GET') {
      return this.#get(request, req);
    }
    return diagnostic('4.05', `${method} is not allowed here`);
  }

  async #publish(route: Extract<Route, { kind: 'messages' }>, request: RequestContext): Promise<Answer> {
    const { ingest } = this.#o.gateway;
    const thing = await ingest.authenticate(request.key);
    const { channelId, subtopic } = route;
    if (request.tooLarge !== undefined) {
      throw ingest.reject(
        thing,
        channelId,
        new IngestError(
          'payload-too-large',
          `the upload reached ${request.tooLarge} bytes, at most ${this.#o.maxPayloadBytes} allowed`,
        ),
      );
    }
    let contentType: string;
    try {
      contentType = contentTypeOf(request.contentFormat, request.payload);
    } catch (err) {
      throw isIngestError(err) ? ingest.reject(thing, channelId, err) : err;
    }
    const { packet, rsinfo, payload } = request;
    const accepted = await ingest.publish({
      thing,
      channelId,
      subtopic,
      contentType,
      body: payload,
      messageId: coapMessageId(rsinfo, packet.messageId ?? 0, packet.token, payload),
      receivedAt: request.receivedAt,
      keyHash: keyHash(request.key),
    });
    return {
      code: '2.04',
      payload: new TextEncoder().encode(JSON.stringify({ id: accepted.id, seq: accepted.seq })),
      options: { 'Content-Format': JSON_FORMAT },
    };
  }

  async #result(route: Extract<Route, { kind: 'result' }>, request: RequestContext): Promise<Answer> {
    const thing = await this.#o.gateway.ingest.authenticate(request.key);
    const outcome = commandOutcomeOf(request.payload);
    const live = [...(this.#commandSessions.get(thing.thingId) ?? [])].find((s) => !s.closed);
    // a thing that reports without observing (it polled, or its observation ended) gets a session for it
    const session =
      live ??
      (await this.#o.gateway.sessions.open({ key: request.key, remoteAddress: address(request.rsinfo) }));
    try {
      if (session.reportResult(route, outcome)) return { code: '2.04' };
    } finally {
      if (!live) session.close('disconnected');
    }
    return route.thingId === thing.thingId
      ? diagnostic(CODES['invalid-payload'], `the result of command ${route.commandId} cannot be recorded`)
      : diagnostic(CODES.forbidden, `command ${route.commandId} is another thing's (${route.thingId})`);
  }

  /** A GET without Observe: the next blocks of a block-wise notification, or deregistration (Observe: 1). */
  async #get(request: RequestContext, req: IncomingMessage): Promise<Answer> {
    const key = observationKey(request.rsinfo, req);
    const block2 = req._packet.options?.find((o) => o.name === 'Block2');
    const block = Buffer.isBuffer(block2?.value) ? readBlockOption(block2.value) : undefined;
    const kept = this.#o.observations.representation(key);
    if (block && block.num > 0) {
      if (!kept)
        return diagnostic('4.08', 'no block-wise notification of this resource to continue; observe again');
      return { code: '2.05', payload: kept.body, options: { 'Content-Format': kept.contentFormat } };
    }
    if (req.headers.Observe === 1) {
      this.#o.observations.get(key)?.end();
      return { code: '2.05', payload: EMPTY };
    }
    return diagnostic('4.05', 'observe this resource (GET with Observe: 0)');
  }

  /** A registration (GET with Observe: 0) of a channel's messages or a thing's commands. */
  async observe(req: IncomingMessage, res: ObserveWriteStream): Promise<void> {
    const refuse = (answer: Answer) => {
      res.statusCode = answer.code;
      for (const [name, value] of Object.entries(answer.options ?? {})) res.setOption(name as never, value);
      res.end(Buffer.from(answer.payload ?? EMPTY));
    };
    let session: DeviceSession | undefined;
    let observation: Observation | undefined;
    try {
      const route = parseRoute(optionValues(req, 'Uri-Path'));
      if (route.kind !== 'messages' && route.kind !== 'commands') {
        return refuse(
          diagnostic(
            '4.05',
            'only /channels/{channel}/messages and /things/{thing}/commands can be observed',
          ),
        );
      }
      const key = authOf(optionValues(req, 'Uri-Query'));
      session = await this.#o.gateway.sessions.open({
        key,
        remoteAddress: address(req.rsinfo),
        onRevoked: () => observation?.end(CODES.forbidden, "the thing's credentials changed"),
      });
      const opened = session;
      if (route.kind === 'commands' && route.thingId !== opened.thing.thingId) {
        throw opened.reject(new IngestError('forbidden', `the commands of another thing (${route.thingId})`));
      }
      if (route.kind === 'messages' && !opened.connectedTo(route.channelId)) {
        throw opened.reject(
          new IngestError(
            'forbidden',
            `thing ${opened.thing.thingId} is not connected to channel ${route.channelId}`,
          ),
        );
      }
      const obsKey = observationKey(req.rsinfo, req);
      const added = this.#o.observations.add(obsKey, res, route.kind);
      if (!added)
        return refuse(diagnostic('5.03', 'too many observations on this bridge; retry', { 'Max-Age': 30 }));
      observation = added;
      if (route.kind === 'commands') await this.#feedCommands(opened, added, obsKey);
      else await this.#feedChannel(opened, added, obsKey, route.channelId);
    } catch (err) {
      session?.close('disconnected');
      if (observation) observation.end(failureAnswer(err, this.#o.maxPayloadBytes).code);
      else refuse(failureAnswer(err, this.#o.maxPayloadBytes));
      if (!isIngestError(err)) throw err;
    }
  }

  async #feedCommands(session: DeviceSession, observation: Observation, key: string): Promise<void> {
    const thingId = session.thing.thingId;
    const sessions = this.#commandSessions.get(thingId) ?? new Set();
    sessions.add(session);
    this.#commandSessions.set(thingId, sessions);
    observation.onEnd(() => {
      session.close('disconnected');
      sessions.delete(session);
      if (sessions.size === 0) this.#commandSessions.delete(thingId);
    });
    const commands = await session.commands();
    observation.register(EMPTY, JSON_FORMAT);
    (async () => {
      for await (const command of commands) {
        const sent = observation.notify(encodeCommandDelivery(command), JSON_FORMAT);
        if (sent.representation) this.#o.observations.keep(key, sent.representation);
        // delivered once the device acknowledged it; otherwise it goes back for the next session
        if (!(await sent.acked)) break;
        session.delivered(command.id);
      }
    })().catch((err: unknown) => this.#o.logger.warn({ err, thingId }, 'CoAP command feed ended'));
  }

  async #feedChannel(
    session: DeviceSession,
    observation: Observation,
    key: string,
    channelId: string,
  ): Promise<void> {
    const filters = messageFilters({ tenant: session.thing.tenantId, channel: channelId });
    const consumer = await this.#o.js.consumers.get(STREAMS.MESSAGES.name, {
      // one filter as a string: created by name, as the bridges' NATS users may (docs/security.md#nats)
      filter_subjects: filters.length === 1 ? (filters[0] as string) : [...filters],
      deliver_policy: DeliverPolicy.New,
    });
    const messages = await consumer.consume();
    observation.onEnd(() => {
      void messages.stop();
      session.close('disconnected');
    });
    observation.register(EMPTY, FORMAT_NUMBER['application/senml+json'] as number);
    const own = session.thing.thingId;
    (async () => {
      for await (const m of messages) {
        const subject = parseSubject(m.subject);
        // its own messages, and redriven copies (subscribers had the original), are not news to it
        if (subject.kind !== 'msg' || subject.thing === own || redriveTargetOf(m.headers) !== undefined)
          continue;
        if (!session.connectedTo(channelId)) break;
        const type = m.headers?.get(MESSAGE_HEADERS.CONTENT_TYPE) ?? 'application/senml+json';
        const sent = observation.notify(m.data, FORMAT_NUMBER[type] ?? JSON_FORMAT);
        if (sent.representation) this.#o.observations.keep(key, sent.representation);
        if (!(await sent.acked)) break;
      }
    })()
      .catch((err: unknown) => this.#o.logger.warn({ err, channelId }, 'CoAP channel feed ended'))
      .finally(() => observation.end());
  }
}

const address = (rsinfo: AddressInfo) => `${rsinfo.address.replace(/^::ffff:/, '')}:${rsinfo.port}`;
