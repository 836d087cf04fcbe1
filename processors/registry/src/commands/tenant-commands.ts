import { v7 } from 'uuid';
import { tenantDecider } from '../domain/tenant.ts';
import { userDecider } from '../domain/user.ts';
import { type CommandActor, type CommandHandler, entityRef } from './command-handler.ts';

export interface SignupCommand {
  tenantName: string;
  /** The owner's email, already normalised. */
  email: string;
  passwordHash: string;
}

export class TenantCommands {
  readonly #h: CommandHandler;

  constructor(handler: CommandHandler) {
    this.#h = handler;
  }

  /**
   * A new tenant with its first owner, under a claim on the email.
   * @throws RegistryError TAKEN when the email has an account.
   */
  async signup(command: SignupCommand): Promise<{ tenantId: string; userId: string }> {
    const tenantId = v7();
    const userId = v7();
    const owner: CommandActor = { tenantId, actor: userId };
    const { email, passwordHash } = command;
    await this.#h.withClaim('email', email, userId, async () => {
      await this.#h.append(
        tenantDecider,
        entityRef(owner, 'tenant', tenantId),
        { type: 'create', tenantId, name: command.tenantName },
        { tenantId },
      );
      await this.#h.run(
        userDecider,
        entityRef(owner, 'user', userId),
        { type: 'register', userId, email, passwordHash, role: 'owner' },
        owner,
      );
    });
    return { tenantId, userId };
  }

  async rename(by: CommandActor, name: string): Promise<void> {
    await this.#h.run(
      tenantDecider,
      entityRef(by, 'tenant', by.tenantId),
      { type: 'rename', tenantId: by.tenantId, name },
      by,
    );
  }
}
