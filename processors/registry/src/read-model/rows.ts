/** Rows of the registry read model as its queries return them. */

export interface TenantRow {
  id: string;
  name: string;
  created_at: Date;
}
export interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  role: string;
  created_at: Date;
}
/** What checking a user's password needs. */
export interface UserSecretRow {
  id: string;
  tenant_id: string;
  email: string;
  password_hash: string;
}
export interface ThingRow {
  id: string;
  tenant_id: string;
  name: string;
  metadata: Record<string, unknown>;
  enabled: boolean;
  /** The thing's own rate limit; both null: the deployment's. */
  rate_per_second: number | null;
  rate_burst: number | null;
  created_at: Date;
  updated_at: Date;
}
export interface ChannelRow {
  id: string;
  tenant_id: string;
  name: string;
  metadata: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}
export interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  role: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}
export interface BootstrapRow {
  thing_id: string;
  external_id: string;
  channels: string[];
  content: string;
  updated_at: Date;
}
/** A bootstrap config as a device fetches it, before its key is checked. */
export interface BootstrapSecretRow {
  thing_id: string;
  tenant_id: string;
  external_key_hash: string;
  channels: string[];
  content: string;
}

export interface ThingFilter {
  nameContains?: string | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
  channelId?: string | null | undefined;
  enabled?: boolean | null | undefined;
}
export interface ChannelFilter {
  nameContains?: string | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
  thingId?: string | null | undefined;
}
