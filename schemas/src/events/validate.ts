import { Compile, type Validator } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { currentVersion, EVENT_SCHEMAS, type EventType, isEventType, type TellyEvent } from './catalog.ts';
import { EventValidationError, type EventValidationIssue } from './errors.ts';

// Compiled on first use: a process that handles three event types compiles three.
const validators = new Map<EventType, Validator>();

function validatorFor(type: EventType): Validator {
  let validator = validators.get(type);
  if (validator === undefined) {
    validator = Compile(EVENT_SCHEMAS[type]) as unknown as Validator;
    validators.set(type, validator);
  }
  return validator;
}

/**
 * Checks that `value` is a current-version event of the catalog and returns it, typed.
 * Throws {@link EventValidationError} whose message and `path` name the first offending
 * property (`thing.created v1: /data/keyHash must match pattern …`). Older versions must be
 * upcast first (`upcastEvent`, or `decodeEvent` which does both).
 */
export function validateEvent(value: unknown): TellyEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EventValidationError('NOT_AN_EVENT', `an event must be a JSON object, got ${describe(value)}`);
  }
  const { type, version } = value as { type?: unknown; version?: unknown };
  if (typeof type !== 'string') {
    throw new EventValidationError(
      'NOT_AN_EVENT',
      `an event needs a string "type" at /type, got ${describe(type)}`,
      { path: '/type' },
    );
  }
  if (!isEventType(type)) {
    throw new EventValidationError(
      'UNKNOWN_EVENT_TYPE',
      `unknown event type ${JSON.stringify(type)} at /type`,
      {
        path: '/type',
        eventType: type,
      },
    );
  }
  const current = currentVersion(type);
  if (typeof version === 'number' && version !== current) {
    const why =
      version < current
        ? `no upcaster brings v${version} to v${current}`
        : `this build knows up to v${current}; upgrade the reader`;
    throw new EventValidationError(
      'UNSUPPORTED_VERSION',
      `${type}: /version ${version} is not supported, ${why}`,
      {
        path: '/version',
        eventType: type,
      },
    );
  }
  const validator = validatorFor(type);
  if (validator.Check(value)) return value as TellyEvent;
  const issues = toIssues(validator.Errors(value));
  const first = issues[0] ?? { path: '', message: 'does not match its schema' };
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  throw new EventValidationError(
    'INVALID_EVENT',
    `${type} v${current}: ${first.path || '/'} ${first.message}${more}`,
    { path: first.path, issues, eventType: type },
  );
}

/** TypeBox errors → one issue per offending property, with the property in the path. */
function toIssues(errors: readonly TLocalizedValidationError[]): EventValidationIssue[] {
  const issues: EventValidationIssue[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    issues.push({ path, message });
  };
  // A failed anyOf reports every branch at the same path; the anyOf error alone says it best.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const error of errors) {
    switch (error.keyword) {
      case 'required':
        for (const key of error.params.requiredProperties)
          add(`${error.instancePath}/${pointerToken(key)}`, 'is required');
        break;
      case 'additionalProperties':
        for (const key of error.params.additionalProperties)
          add(`${error.instancePath}/${pointerToken(key)}`, 'is not allowed');
        break;
      case 'boolean':
        // `additionalProperties: false` also reports "schema is false" for each extra key.
        if (error.schemaPath.endsWith('/additionalProperties')) add(error.instancePath, 'is not allowed');
        else add(error.instancePath, error.message);
        break;
      case 'anyOf':
        add(error.instancePath, 'does not match any allowed type');
        break;
      default:
        if (!anyOfPaths.has(error.instancePath)) add(error.instancePath, error.message);
    }
  }
  return issues;
}

/** RFC 6901 escaping of one JSON Pointer token. */
function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
