import { commandSubject, eventSubject, registrySubject, scheduledCommandSubject } from '../subjects/build.ts';
import type { TellyEvent } from './catalog.ts';

/**
 * The subject an event is published on (docs/log.md):
 * registry events on `reg.<tenant>.<kind>.<id>` of the entity they change (connections on
 * the thing's), `command.requested` on `cmd.<tenant>.<thing>`, everything derived on
 * `evt.<tenant>.<type>.<thing>`.
 */
export function subjectOf(event: TellyEvent): string {
  const tenant = event.tenantId;
  switch (event.type) {
    case 'tenant.created':
    case 'tenant.renamed':
    case 'tenant.deleted':
      return registrySubject({ tenant, entity: 'tenant', id: tenant });
    case 'user.registered':
    case 'user.role-granted':
    case 'user.role-revoked':
    case 'user.password-changed':
    case 'user.deleted':
      return registrySubject({ tenant, entity: 'user', id: event.data.userId });
    case 'thing.created':
    case 'thing.updated':
    case 'thing.key-rotated':
    case 'thing.enabled':
    case 'thing.disabled':
    case 'thing.rate-limit-set':
    case 'thing.rate-limit-cleared':
    case 'thing.deleted':
    case 'thing.connected':
    case 'thing.disconnected':
      return registrySubject({ tenant, entity: 'thing', id: event.data.thingId });
    case 'channel.created':
    case 'channel.updated':
    case 'channel.deleted':
      return registrySubject({ tenant, entity: 'channel', id: event.data.channelId });
    case 'apikey.created':
    case 'apikey.revoked':
      return registrySubject({ tenant, entity: 'apikey', id: event.data.apikeyId });
    case 'rule.created':
    case 'rule.updated':
    case 'rule.enabled':
    case 'rule.disabled':
    case 'rule.deleted':
      return registrySubject({ tenant, entity: 'rule', id: event.data.ruleId });
    case 'model.created':
    case 'model.version-added':
    case 'model.deployed':
    case 'model.undeployed':
    case 'model.bound':
    case 'model.unbound':
    case 'model.deleted':
      return registrySubject({ tenant, entity: 'model', id: event.data.modelId });
    case 'kafka.source.created':
    case 'kafka.source.deleted':
      return registrySubject({ tenant, entity: 'kafka', id: event.data.sourceId });
    case 'kafka.sink.created':
    case 'kafka.sink.deleted':
      return registrySubject({ tenant, entity: 'kafka', id: event.data.sinkId });
    case 'bootstrap.configured':
    case 'bootstrap.removed':
      return registrySubject({ tenant, entity: 'bootstrap', id: event.data.thingId });
    case 'command.requested':
      return commandSubject({ tenant, thing: event.data.thingId });
    case 'command.cancelled':
      return scheduledCommandSubject({ tenant, thing: event.data.thingId, command: event.data.commandId });
    case 'command.delivered':
    case 'command.succeeded':
    case 'command.failed':
    case 'command.expired':
      return eventSubject({ tenant, type: 'command', thing: event.data.thingId });
    case 'alert.raised':
    case 'alert.resolved':
    case 'alert.acknowledged':
    case 'alert.cleared':
    case 'alert.notified':
    case 'alert.notification-failed':
      return eventSubject({ tenant, type: 'alert', thing: event.data.thingId });
    case 'inference.completed':
    case 'inference.failed':
      return eventSubject({ tenant, type: 'inference', thing: event.data.thingId });
    case 'message.rejected':
      return eventSubject({ tenant, type: 'rejected', thing: event.data.thingId });
    case 'thing.online':
    case 'thing.offline':
      return eventSubject({ tenant, type: 'lifecycle', thing: event.data.thingId });
  }
}
