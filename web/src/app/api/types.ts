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
/** One name's numbers of `telemetrySeries`: times in milliseconds since the epoch. */
export interface TelemetrySeries {
  name: string;
  times: number[];
  values: number[];
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
export type RuleOp = 'GT' | 'GTE' | 'LT' | 'LTE' | 'EQ' | 'NEQ' | 'BETWEEN' | 'OUTSIDE' | 'NO_DATA';
export type RuleAggregate = 'VALUE' | 'RATE' | 'AVG' | 'MIN' | 'MAX';
export type AlertSeverity = 'INFO' | 'WARNING' | 'MINOR' | 'MAJOR' | 'CRITICAL';
export interface RuleCondition {
  op: RuleOp;
  value?: number | null;
  value2?: number | null;
  valueString?: string | null;
  valueBoolean?: boolean | null;
  for?: string | null;
  clearValue?: number | null;
  aggregate?: RuleAggregate | null;
  window?: string | null;
}
/** A rule's action as the API shows it (a webhook says whether it has a secret, never the secret). */
export type RuleAction =
  | { kind: 'email'; to: string[] }
  | {
      kind: 'command';
      thingId: string;
      name: string;
      payload?: unknown;
      duration?: string;
      revertPayload?: unknown;
      on?: 'raised' | 'resolved';
    }
  | { kind: 'webhook'; url: string; secret: boolean };
export interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  thingId: string | null;
  channelId: string | null;
  thingMetadata: Record<string, unknown> | null;
  measurement: string;
  condition: RuleCondition;
  severity: AlertSeverity;
  message: string;
  cooldown: string | null;
  actions: RuleAction[];
}
/** CreateRuleInput: what createRule, updateRule and backtestRule take. */
export interface RuleInput
  extends Pick<
    Rule,
    'name' | 'thingId' | 'channelId' | 'thingMetadata' | 'measurement' | 'condition' | 'severity' | 'cooldown'
  > {
  message: string | null;
  actions: (
    | { email: { to: string[] } }
    | {
        command: {
          thingId: string;
          name: string;
          payload: unknown;
          duration: string | null;
          revertPayload: unknown;
          on: 'RAISED' | 'RESOLVED';
        };
      }
    | { webhook: { url: string; secret?: string } }
  )[];
}
export type JobStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED' | 'CANCELLED';
export interface BacktestJob {
  id: string;
  status: JobStatus;
  progress: number;
  error: string | null;
  result: {
    readings: number;
    raised: number;
    alerts: {
      alertId: string;
      thingId: string;
      value: unknown;
      raisedAt: string;
      resolvedAt: string | null;
    }[];
  } | null;
}
