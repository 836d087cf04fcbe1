import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { DeviceStatusQueries } from '@telly/devices';
import type { DeadLetterQueue } from '@telly/runtime';
import { JSONResolver } from 'graphql-scalars';
import type { Principal } from './auth/principal.ts';
import type { Revocations } from './auth/revocations.ts';
import { atLeast } from './auth/roles.ts';
import { DateTime } from './date-time.ts';
import { ApiError } from './errors.ts';
import type { AlertService } from './services/alert-service.ts';
import type { AuthService } from './services/auth-service.ts';
import type { CommandService } from './services/command-service.ts';
import type { KafkaService } from './services/kafka-service.ts';
import type { ModelService } from './services/model-service.ts';
import type { ProjectionOps } from './services/projection-ops.ts';
import type { RegistryQueries } from './services/queries.ts';
import type { RegistryService } from './services/registry-service.ts';
import type { RuleService } from './services/rule-service.ts';
import type { TelemetryFeed } from './services/telemetry-feed.ts';
import type { TelemetryService } from './services/telemetry-service.ts';
import { TELLY_ID_PLUGIN } from './telly-id.ts';

export interface Services {
  auth: AuthService;
  commands: CommandService;
  telemetry: TelemetryService;
  feed: TelemetryFeed;
  ops: ProjectionOps;
  registry: RegistryService;
  queries: RegistryQueries;
  /** Revocation notices between API instances: announce after a credential change. */
  revocations: Revocations;
  /** Presence, last message and refused publishes of things. */
  devices: DeviceStatusQueries;
  /** The dead-letter queue (operators only: the resolvers authorize with `ops`). */
  deadLetters: DeadLetterQueue;
  /** ONNX models: registry, predictions, the job queue. */
  models: ModelService;
  /** Alert rules (REGISTRY, kind rule) and their backtests. */
  rules: RuleService;
  /** Alerts: the rules processor's read model, acknowledgements, the live feed. */
  alerts: AlertService;
  /** The tenant's Kafka sources and sinks (REGISTRY, kind kafka). */
  kafka: KafkaService;
}

export interface Context {
  /** undefined for an anonymous request. */
  principal: Principal | undefined;
  services: Services;
  /** The caller's source address (see client-address.ts), which the throttles count by. */
  clientAddress: string;
  /** Throws once the caller's credentials no longer hold (expired, revoked): long-lived operations ask again. */
  recheck: () => Promise<void>;
}

/**
 * The most one operation may cost. A field costs 1, a list 1 plus 10 times its selection, a
 * connection 10 plus its page size times its selection (`pageComplexity`); so two nested lists
 * of default pages are fine and a third is refused with QUERY_TOO_COMPLEX. @default 20000
 */
export const MAX_QUERY_COMPLEXITY = 20_000;

/**
 * Scopes follow the role ladder owner > admin > operator > analyst > viewer: `viewer` reads the
 * registry, `operator` changes things and channels, `admin` manages users and API keys, `owner`
 * the tenant itself.
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { authenticated: boolean; viewer: boolean; operator: boolean; admin: boolean; owner: boolean };
  Scalars: {
    /** A Telly id once the {@link TELLY_ID_PLUGIN} has read it: always a string. */
    ID: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date };
    /** A file of a GraphQL multipart request (yoga parses it). */
    File: { Input: File; Output: never };
  };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin, ComplexityPlugin, TELLY_ID_PLUGIN],
  // computed from the operation and its variables before any root field resolves
  complexity: {
    defaultComplexity: 1,
    defaultListMultiplier: 10,
    limit: { complexity: MAX_QUERY_COMPLEXITY },
    complexityError: (_kind, { complexity, maxComplexity }) =>
      new ApiError(
        'QUERY_TOO_COMPLEX',
        `this operation costs ${complexity}, at most ${maxComplexity} is allowed: ask for smaller pages or fewer nested lists`,
        { cost: complexity, maxCost: maxComplexity, http: { status: 400 } },
      ),
  },
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: ({ principal }) => ({
      authenticated: principal !== undefined,
      viewer: principal !== undefined && atLeast(principal.role, 'viewer'),
      operator: principal !== undefined && atLeast(principal.role, 'operator'),
      admin: principal !== undefined && atLeast(principal.role, 'admin'),
      owner: principal !== undefined && atLeast(principal.role, 'owner'),
    }),
    unauthorizedError: (_parent, context, info) =>
      context.principal
        ? new ApiError('FORBIDDEN', `the role ${context.principal.role} may not use ${info.fieldName}`)
        : new ApiError('UNAUTHENTICATED', `${info.fieldName} needs an Authorization: Bearer token`),
  },
});

builder.addScalarType('JSON', JSONResolver);
builder.addScalarType('DateTime', DateTime);

/** The caller, known to exist once a field's authScopes passed. */
export function principalOf(context: Context): Principal {
  if (!context.principal) throw new ApiError('UNAUTHENTICATED', 'this needs an Authorization: Bearer token');
  return context.principal;
}
