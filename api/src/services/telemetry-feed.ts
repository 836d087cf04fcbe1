import { DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { type Logger, logEntryOf, redriveTargetOf } from '@telly/runtime';
import { messageFilters, pointsOf, STREAMS, type TelemetryPoint } from '@telly/schemas';
import { type PointRow, pointRow } from '@telly/telemetry-pg';
import { Repeater } from 'graphql-yoga';
import { ApiError } from '../errors.ts';

/** Messages a subscription's consumer pulls ahead of its client at most. */
const FEED_BATCH = 100;

/** What a live subscription selects; the tenant always bounds it. */
export interface FeedFilter {
  tenantId: string;
  channelId?: string | undefined;
  thingId?: string | undefined;
  name?: string | undefined;
}

export interface TelemetryFeedOptions {
  /**
   * A subscriber still reading messages stored this long ago is ended with SLOW_CONSUMER (it
   * resubscribes and fills the gap from `telemetry`). Nothing piles up for it meanwhile.
   * @default 15 s
   */
  maxLagMs?: number;
  /** Live subscriptions one tenant may hold on one API instance. @default 500 */
  maxPerTenant?: number;
  /** How often a subscription re-checks its caller's token and session. @default 10 s */
  recheckMs?: number;
}

/** The end of a subscription, delivered as its last event: the resolver throws it. */
export class FeedEnd {
  readonly error: ApiError;
  constructor(error: ApiError) {
    this.error = error;
  }
}

/**
 * Live telemetry from JetStream: each subscription reads MESSAGES through its own ephemeral
 * ordered consumer, starting at the head of the log, so any API instance serves any subscriber
 * and a subscriber sees what was stored (deduplicated, in log order, so in order per thing) —
 * never a publish that JetStream refused.
 *
 * Backpressure is the log's: each point waits until the client took the previous one (the
 * transport awaits each send) and the consumer pulls at most one batch ahead, so a slow
 * dashboard costs one batch of memory and never slows ingest; one that falls
 * {@link TelemetryFeedOptions.maxLagMs} behind the log ends.
 */
export class TelemetryFeed {
  readonly #js: JetStreamClient;
  readonly #logger: Logger;
  readonly #maxLagMs: number;
  readonly #maxPerTenant: number;
  readonly #recheckMs: number;
  readonly #active = new Map<string, number>();

  constructor(js: JetStreamClient, logger: Logger, options: TelemetryFeedOptions = {}) {
    this.#js = js;
    this.#logger = logger;
    this.#maxLagMs = options.maxLagMs ?? 15_000;
    this.#maxPerTenant = options.maxPerTenant ?? 500;
    this.#recheckMs = options.recheckMs ?? 10_000;
  }

  /** Subscriptions open now, per tenant. */
  active(tenantId: string): number {
    return this.#active.get(tenantId) ?? 0;
  }

  /**
   * The points stored from now on that match `filter`. `stillAllowed` is asked every
   * `recheckMs`, and at once whenever `onRevoked` calls back (a revocation notice of the tenant):
   * when it throws (token expired, session revoked) the subscription ends with it.
   */
  subscribe(
    filter: FeedFilter,
    stillAllowed: () => Promise<void>,
    onRevoked?: (recheck: () => void) => () => void,
  ): AsyncIterable<PointRow | FeedEnd> {
    const { tenantId } = filter;
    if (this.active(tenantId) >= this.#maxPerTenant) {
      throw new ApiError(
        'TOO_MANY_SUBSCRIPTIONS',
        `at most ${this.#maxPerTenant} live subscriptions per tenant on one API instance`,
      );
    }
    return new Repeater<PointRow | FeedEnd>(async (push, stop) => {
      // counted while the executor runs: a subscription the client left before its first read never starts
      this.#active.set(tenantId, this.active(tenantId) + 1);
      let ended = false;
      // the last event, then the end, whether or not the client is still reading
      const end = (error: ApiError) => {
        if (ended) return;
        ended = true;
        push(new FeedEnd(error)).catch(() => {});
        stop();
      };
      const slow = (lagMs: number) =>
        end(
          new ApiError(
            'SLOW_CONSUMER',
            `this subscriber fell ${Math.round(lagMs)} ms behind the log (at most ${this.#maxLagMs}); resubscribe and read the gap with the telemetry query`,
          ),
        );
      // a client that stops reading leaves a point waiting: that is lag too
      let waitingSince: number | undefined;
      const watchdog = setInterval(
        () => {
          if (waitingSince !== undefined && Date.now() - waitingSince > this.#maxLagMs)
            slow(Date.now() - waitingSince);
        },
        Math.min(1_000, this.#maxLagMs),
      );
      const check = () => {
        stillAllowed().catch((err: unknown) =>
          end(err instanceof ApiError ? err : new ApiError('UNAUTHENTICATED', 'the session has ended')),
        );
      };
      const recheck = setInterval(check, this.#recheckMs);
      const unlisten = onRevoked?.(check);
      let consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>> | undefined;
      try {
        // from the head as it is now (not DeliverPolicy.New, which a reset would turn into seq 1)
        const { state } = await (await this.#js.streams.get(STREAMS.MESSAGES.name)).info(false);
        consumer = await this.#js.consumers.get(STREAMS.MESSAGES.name, {
          filter_subjects: [
            ...messageFilters({ tenant: tenantId, channel: filter.channelId, thing: filter.thingId }),
          ],
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: state.last_seq + 1,
        });
        const messages = await consumer.consume({ max_messages: FEED_BATCH });
        stop.then(() => messages.stop());
        for await (const m of messages) {
          const lagMs = Date.now() - m.info.timestampNanos / 1_000_000;
          if (lagMs > this.#maxLagMs) {
            slow(lagMs);
            break;
          }
          for (const point of this.#decode(m)) {
            if (filter.name !== undefined && point.name !== filter.name) continue;
            waitingSince = Date.now();
            await push(pointRow(point));
            waitingSince = undefined;
          }
        }
      } catch (err) {
        this.#logger.error({ err }, 'live telemetry subscription failed');
        end(new ApiError('UNAVAILABLE', 'the live feed is unavailable; resubscribe shortly'));
      } finally {
        clearInterval(recheck);
        clearInterval(watchdog);
        unlisten?.();
        this.#active.set(tenantId, this.active(tenantId) - 1);
        // the server would keep an ended subscription's consumer until its inactivity timeout
        await consumer?.delete().catch(() => false);
      }
    });
  }

  /**
   * Not a telemetry message (e.g. an image for inference): no points, not an error. Nor is a
   * redriven copy (`telly dlq redrive`): subscribers saw the original.
   */
  #decode(m: JsMsg): TelemetryPoint[] {
    if (redriveTargetOf(m.headers) !== undefined) return [];
    try {
      return pointsOf(logEntryOf(m));
    } catch {
      return [];
    }
  }
}
