import type { Role } from './roles.ts';

/** Who is calling, resolved once per request from the Authorization header. */
export interface Principal {
  kind: 'user' | 'apikey' | 'oidc';
  tenantId: string;
  role: Role;
  /** The user id (a UUIDv5 of issuer and subject for OIDC identities), the API key id for keys. */
  id: string;
  /** What goes in events' `actor`: the user id or `apikey:<id>`. */
  actor: string;
  /** Login session of a Telly user. */
  sessionId?: string;
}
