import { type Ingest, IngestError, isIngestError } from '@telly/bridge-core';
import { keyHash, parseThingAuthorization, type ThingCredential } from '@telly/schemas';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MESSAGE_CONTENT_TYPES } from '../content-types.ts';
import { IDEMPOTENCY_KEY_HEADER, idempotencyKeyOf } from '../idempotency-key.ts';
import { MAINFLUX_PREFIX, MESSAGE_ROUTES, parseMessagePath } from '../message-path.ts';
import { HttpProblem, problemOf, sendProblem } from '../problem.ts';

/** Sent with a 202 that answers a retry of a message already stored (same `Idempotency-Key`). */
export const REPLAYED_HEADER = 'idempotent-replayed';

/** What the checks before the body establish for the handler. */
interface Admitted {
  thing: ThingCredential;
  channelId: string;
  subtopic: readonly string[];
  messageId: string | undefined;
  receivedAt: number;
  keyHash: string;
}

const EMPTY = new Uint8Array(0);

/** The Ingest refusal that a body Fastify would not read amounts to, if any. */
function bodyRefusal(error: FastifyError, request: FastifyRequest, limit: number): IngestError | undefined {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const length = request.headers['content-length'];
    return new IngestError(
      'payload-too-large',
      length
        ? `the message is ${length} bytes, at most ${limit} allowed`
        : `the message is larger than the ${limit} bytes allowed`,
    );
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new IngestError(
      'unsupported-content-type',
      `${JSON.stringify(request.headers['content-type'] ?? '')} is not a media type; send one of ${MESSAGE_CONTENT_TYPES.join(', ')}`,
    );
  }
  return undefined;
}

/**
 * `POST [/http]/channels/{channel}/messages[/{subtopic…}]`: everything that needs no body (route,
 * `Idempotency-Key`, the thing's key) is checked before the body is read, so a stranger cannot make
 * the bridge buffer uploads; then Ingest checks the rest and answers 202 `{id, seq}` only once
 * JetStream acked.
 */
export function registerMessageRoutes(app: FastifyInstance, ingest: Ingest): void {
  const admitted = new WeakMap<FastifyRequest, Admitted>();

  const admit = async (request: FastifyRequest): Promise<void> => {
    const receivedAt = Date.now();
    const { channelId, subtopic } = parseMessagePath(request.url);
    const messageId = idempotencyKeyOf(request.headers[IDEMPOTENCY_KEY_HEADER]);
    const header = request.headers.authorization;
    const key = parseThingAuthorization(header);
    if (key === undefined) {
      throw new IngestError(
        'unauthenticated',
        header ? 'Authorization must be "Thing <key>" (or the bare key)' : 'send Authorization: Thing <key>',
      );
    }
    let thing: ThingCredential;
    try {
      thing = await ingest.authenticate(key);
    } catch (err) {
      if (isIngestError(err)) throw err;
      // the credentials bucket is out of reach (NATS down): nothing was decided, the device may retry
      request.log.warn({ err }, 'could not look up a thing key');
      throw new HttpProblem(503, 'unavailable', 'credentials cannot be checked right now', {
        cause: err,
        retryAfter: 1,
      });
    }
    admitted.set(request, { thing, channelId, subtopic, messageId, receivedAt, keyHash: keyHash(key) });
  };

  const publish = async (request: FastifyRequest, reply: FastifyReply) => {
    const target = admitted.get(request);
    if (!target) throw new Error('message route reached without admission');
    const accepted = await ingest.publish({
      ...target,
      contentType: request.headers['content-type'] ?? '',
      body: request.body instanceof Uint8Array ? request.body : EMPTY,
    });
    if (accepted.duplicate) reply.header(REPLAYED_HEADER, 'true');
    return reply.code(202).send({ id: accepted.id, seq: accepted.seq });
  };

  const onError = async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    let err: unknown = error;
    const target = admitted.get(request);
    const refusal = target && bodyRefusal(error, request, app.initialConfig.bodyLimit ?? 0);
    if (target && refusal) {
      // Fastify refused the body before Ingest saw it: recorded as if Ingest had refused it
      err = ingest.reject(target.thing, target.channelId, refusal);
    }
    const { problem, retryAfter } = problemOf(err);
    if (problem.status >= 500 && !(err instanceof HttpProblem))
      request.log.error({ err }, 'message route failed');
    return sendProblem(reply, problem, retryAfter);
  };

  for (const prefix of ['', MAINFLUX_PREFIX]) {
    for (const route of MESSAGE_ROUTES) {
      app.route({
        method: 'POST',
        url: `${prefix}${route}`,
        onRequest: admit,
        handler: publish,
        errorHandler: onError,
      });
    }
  }
}
