import type pg from 'pg';
import type { ProjectionWaiter } from '../read-model/wait.ts';
import type { RegistryStore } from '../store.ts';
import { ApiKeyCommands } from './apikey-commands.ts';
import { BootstrapCommands } from './bootstrap-commands.ts';
import { ChannelCommands } from './channel-commands.ts';
import { CommandHandler } from './command-handler.ts';
import { TenantCommands } from './tenant-commands.ts';
import { ThingCommands } from './thing-commands.ts';
import { UserCommands } from './user-commands.ts';

/**
 * The registry's commands, one set per aggregate, all run by one {@link CommandHandler}: each
 * returns once the read model shows its change. Every entity is addressed within the actor's
 * tenant, so another tenant's id is simply not found. Inputs arrive checked and secrets hashed:
 * validation and authorization are the caller's.
 */
export class RegistryCommands {
  readonly tenants: TenantCommands;
  readonly users: UserCommands;
  readonly things: ThingCommands;
  readonly channels: ChannelCommands;
  readonly apiKeys: ApiKeyCommands;
  readonly bootstrap: BootstrapCommands;

  constructor(store: RegistryStore, waiter: ProjectionWaiter, pool: pg.Pool) {
    const handler = new CommandHandler(store, waiter, pool);
    this.tenants = new TenantCommands(handler);
    this.users = new UserCommands(handler, pool);
    this.channels = new ChannelCommands(handler);
    this.things = new ThingCommands(handler, this.channels);
    this.apiKeys = new ApiKeyCommands(handler);
    this.bootstrap = new BootstrapCommands(handler, this.channels);
  }
}
