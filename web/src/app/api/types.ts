// The shapes of what the pages ask the API for (a subset of the schema, docs/graphql.md).

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}
export interface Connection<T> {
  nodes: T[];
  pageInfo: PageInfo;
  totalCount: number;
}
export interface DeviceStatus {
  online: boolean;
  lastSeenAt: string | null;
  lastMessageAt: string | null;
  protocol: string | null;
  offlineReason: string | null;
}
export interface Rejection {
  id: string;
  time: string;
  protocol: string;
  reason: string;
  detail: string;
}
export interface ChannelRef {
  id: string;
  name: string;
}
export interface Channel extends ChannelRef {
  metadata: Record<string, unknown>;
  createdAt: string;
}
export interface ThingSummary {
  id: string;
  name: string;
  enabled: boolean;
  status: DeviceStatus;
  rejections: { nodes: Rejection[] };
}
export interface Bootstrap {
  externalId: string;
  content: string;
  updatedAt: string;
  channels: ChannelRef[];
}
export interface Thing extends ThingSummary {
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  channels: { nodes: ChannelRef[] };
  bootstrap: Bootstrap | null;
}
export interface TelemetryPoint {
  time: string;
  name: string;
  value: number | null;
  unit: string | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  subtopic?: string;
}
export type CommandStatus =
  | 'SCHEDULED'
  | 'PENDING'
  | 'DELIVERED'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'EXPIRED'
  | 'CANCELLED';
export interface Command {
  id: string;
  name: string;
  payload: unknown;
  status: CommandStatus;
  requestedAt: string | null;
  deliveredAt: string | null;
  completedAt: string | null;
  expiresAt: string | null;
  reason: string | null;
  result: unknown;
  /** A timed command: when its revert is sent; a revert: when it is. */
  revertAt?: string | null;
  revertOf?: { id: string } | null;
}
