import type { UserRole } from '@telly/schemas';
import { apiKeyDecider } from '../domain/apikey.ts';
import { type CommandActor, type CommandHandler, entityRef } from './command-handler.ts';

export interface CreateApiKeyCommand {
  /** The key's id, minted by the caller: the key itself embeds it. */
  apikeyId: string;
  name: string;
  keyHash: string;
  role: UserRole;
  expiresAt?: string | undefined;
}

export class ApiKeyCommands {
  readonly #h: CommandHandler;

  constructor(handler: CommandHandler) {
    this.#h = handler;
  }

  async create(by: CommandActor, command: CreateApiKeyCommand): Promise<void> {
    await this.#h.run(
      apiKeyDecider,
      entityRef(by, 'apikey', command.apikeyId),
      { type: 'create', ...command },
      by,
    );
  }

  async revoke(by: CommandActor, apikeyId: string): Promise<void> {
    await this.#h.run(
      apiKeyDecider,
      entityRef(by, 'apikey', apikeyId, 'API key'),
      { type: 'revoke', apikeyId },
      by,
    );
  }
}
