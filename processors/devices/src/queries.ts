import { type Page, type PageArgs, queryPage } from '@telly/runtime';
import { isTellyId } from '@telly/schemas';
import type pg from 'pg';

/** What the bridges last saw of a thing. */
export interface DeviceStatus {
  /** A session (MQTT) is open; HTTP has no sessions, see `lastMessageAt`. */
  online: boolean;
  /** The last time the platform heard from it: a connect, a disconnect, a message or a refused publish. */
  lastSeenAt: Date | null;
  /** When the bridge received its latest stored message. */
  lastMessageAt: Date | null;
  /** The protocol of its latest session. */
  protocol: string | null;
  /** Why its latest session ended, when it did. */
  offlineReason: string | null;
}

/** A refused publish, as the bridge recorded it. */
export interface RejectionRow {
  /** The `message.rejected` event's id. */
  id: string;
  tenant_id: string;
  /** null when it was refused before a thing was known. */
  thing_id: string | null;
  channel_id: string | null;
  at: Date;
  protocol: string;
  /** A reason code such as `invalid-payload`, `payload-too-large`, `rate-limited`. */
  reason: string;
  detail: string;
}

export interface RejectionFilter {
  /** One thing's; a malformed id names none. */
  thingId?: string | null | undefined;
  /** At or after. */
  from?: Date | null | undefined;
  /** Before. */
  to?: Date | null | undefined;
}

const OFFLINE: DeviceStatus = {
  online: false,
  lastSeenAt: null,
  lastMessageAt: null,
  protocol: null,
  offlineReason: null,
};

const EMPTY: Page<RejectionRow> = { items: [], hasNextPage: false, totalCount: 0 };

/** Queries of the device status read model, each bound to a tenant. */
export class DeviceStatusQueries {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** A thing's status; offline and never seen when the bridges recorded nothing of it. */
  async status(tenantId: string, thingId: string): Promise<DeviceStatus> {
    if (!isTellyId(thingId)) return OFFLINE;
    const { rows } = await this.#pool.query<DeviceStatus>(
      `SELECT online, GREATEST(presence_at, last_message_at, last_rejected_at) AS "lastSeenAt",
         last_message_at AS "lastMessageAt", protocol, offline_reason AS "offlineReason"
       FROM device_status WHERE tenant_id = $1 AND thing_id = $2`,
      [tenantId, thingId],
    );
    return rows[0] ?? OFFLINE;
  }

  /** Refused publishes, newest first. */
  rejections(tenantId: string, args: PageArgs & RejectionFilter): Promise<Page<RejectionRow>> {
    const where = ['t.tenant_id = $1'];
    const params: unknown[] = [tenantId];
    if (args.thingId !== undefined && args.thingId !== null) {
      if (!isTellyId(args.thingId)) return Promise.resolve(EMPTY);
      params.push(args.thingId);
      where.push(`t.thing_id = $${params.length}`);
    }
    if (args.from) {
      params.push(args.from);
      where.push(`t.at >= $${params.length}`);
    }
    if (args.to) {
      params.push(args.to);
      where.push(`t.at < $${params.length}`);
    }
    return queryPage<RejectionRow>(
      this.#pool,
      {
        select:
          'SELECT t.id, t.tenant_id, t.thing_id, t.channel_id, t.at, t.protocol, t.reason, t.detail FROM device_rejections t',
        where,
        params,
        order: 'desc',
      },
      args,
    );
  }
}
