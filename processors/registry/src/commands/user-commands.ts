import type { UserRole } from '@telly/schemas';
import type pg from 'pg';
import { v7 } from 'uuid';
import { userDecider } from '../domain/user.ts';
import { RegistryQueries } from '../read-model/queries.ts';
import { type CommandActor, type CommandHandler, entityRef } from './command-handler.ts';

export interface RegisterUserCommand {
  /** Already normalised. */
  email: string;
  passwordHash: string;
  role: UserRole;
}

export class UserCommands {
  readonly #h: CommandHandler;
  readonly #queries: RegistryQueries;

  constructor(handler: CommandHandler, pool: pg.Pool) {
    this.#h = handler;
    this.#queries = new RegistryQueries(pool);
  }

  /**
   * A new user of the actor's tenant, under a claim on the email; returns its id.
   * @throws RegistryError TAKEN when the email has an account.
   */
  async register(by: CommandActor, command: RegisterUserCommand): Promise<string> {
    const userId = v7();
    const ref = entityRef(by, 'user', userId);
    await this.#h.withClaim('email', command.email, userId, () =>
      this.#h.run(userDecider, ref, { type: 'register', userId, ...command }, by),
    );
    return userId;
  }

  /** Makes `role` the user's only role; the tenant keeps at least one owner. */
  async setRole(by: CommandActor, userId: string, role: UserRole): Promise<void> {
    const ref = entityRef(by, 'user', userId);
    await this.#h.run(
      userDecider,
      ref,
      { type: 'set-role', userId, role, otherOwners: await this.#queries.otherOwners(by.tenantId, userId) },
      by,
    );
  }

  /** Deletes the user, unless it is the tenant's last owner. */
  async delete(by: CommandActor, userId: string): Promise<void> {
    const ref = entityRef(by, 'user', userId);
    await this.#h.run(
      userDecider,
      ref,
      { type: 'delete', userId, otherOwners: await this.#queries.otherOwners(by.tenantId, userId) },
      by,
    );
  }

  async changePassword(by: CommandActor, userId: string, passwordHash: string): Promise<void> {
    await this.#h.run(
      userDecider,
      entityRef(by, 'user', userId),
      { type: 'change-password', userId, passwordHash },
      by,
    );
  }
}
