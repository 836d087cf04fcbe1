import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '@telly/runtime';
import { authRevokedFilter, authRevokedSubject } from '@telly/schemas';

/**
 * Revocation notices between API instances, on core NATS (`telly.auth.revoked.<tenant>`): after
 * a logout, an API key revocation, a role change, a user's deletion or a password change is
 * committed, the instance that made it announces the tenant; every instance (itself included)
 * then drops its cached credentials and has the tenant's live subscriptions re-check their
 * caller at once. A notice carries only the tenant id: what changed is read again from Postgres.
 * A notice lost (NATS down for a moment) leaves the periodic checks as the bound: the
 * credentials cache (2 s) and each subscription's re-check (10 s).
 */
export class Revocations {
  readonly #nc: NatsConnection;
  readonly #logger: Logger;
  readonly #everyTenant = new Set<(tenantId: string) => void>();
  readonly #byTenant = new Map<string, Set<() => void>>();
  #subscription: Subscription | undefined;

  constructor(nc: NatsConnection, logger: Logger) {
    this.#nc = nc;
    this.#logger = logger;
  }

  /** Starts listening to every tenant's notices; resolves once the server has the subscription. */
  async listen(): Promise<void> {
    this.#subscription = this.#nc.subscribe(authRevokedFilter(), {
      callback: (err, msg) => {
        if (err) return this.#logger.warn({ err }, 'revocation notices: subscription failed');
        const tenantId = msg.subject.split('.').at(-1);
        if (tenantId) this.#deliver(tenantId);
      },
    });
    await this.#nc.flush();
  }

  /** Tells every API instance that credentials of `tenantId` changed. */
  async announce(tenantId: string): Promise<void> {
    try {
      this.#nc.publish(authRevokedSubject(tenantId));
      await this.#nc.flush();
    } catch (err) {
      // the change is committed; the periodic checks still end what it revoked
      this.#logger.warn({ err, tenantId }, 'revocation notice not sent');
    }
  }

  /** `listener` runs for every notice, before the tenant's listeners (e.g. to drop a cache). */
  onAnyTenant(listener: (tenantId: string) => void): void {
    this.#everyTenant.add(listener);
  }

  /** `listener` runs for each notice of `tenantId` until the returned function is called. */
  onTenant(tenantId: string, listener: () => void): () => void {
    const listeners = this.#byTenant.get(tenantId) ?? new Set<() => void>();
    this.#byTenant.set(tenantId, listeners);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#byTenant.get(tenantId) === listeners) this.#byTenant.delete(tenantId);
    };
  }

  close(): void {
    this.#subscription?.unsubscribe();
  }

  #deliver(tenantId: string): void {
    for (const listener of this.#everyTenant) listener(tenantId);
    for (const listener of this.#byTenant.get(tenantId) ?? []) listener();
  }
}
