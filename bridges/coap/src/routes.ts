import { IngestError } from '@telly/bridge-core';
import { commandSubject, isSubjectError, parseMessageTopic } from '@telly/schemas';

/** What a request addresses, from its Uri-Path options (each one level: no `/` can smuggle one in). */
export type Route =
  | { kind: 'messages'; channelId: string; subtopic: readonly string[] }
  | { kind: 'commands'; thingId: string }
  | { kind: 'result'; thingId: string; commandId: string }
  | { kind: 'healthz' };

const notFound = (detail: string, cause?: unknown) =>
  new IngestError('invalid-topic', detail, cause === undefined ? undefined : { cause });

/** `value` when it is a valid subject token (the subject builder holds the one rule). */
const token = (value: string, what: string, path: string): string => {
  try {
    commandSubject({ tenant: '_', thing: value });
    return value;
  } catch (err) {
    if (isSubjectError(err))
      throw notFound(`${path}: the ${what} ${JSON.stringify(value)} is not a valid id`, err);
    throw err;
  }
};

/**
 * The route of a request's path segments: `channels/{channel}/messages[/{subtopic…}]` (publish,
 * observe), `things/{thing}/commands` (observe), `things/{thing}/commands/{command}/result`
 * (report) or `healthz`. Throws IngestError `invalid-topic` (4.04) for anything else.
 */
export function parseRoute(segments: readonly string[]): Route {
  const path = `/${segments.join('/')}`;
  if (segments.length === 1 && segments[0] === 'healthz') return { kind: 'healthz' };
  if (segments[0] === 'things') {
    const [, thing, commands, command, result] = segments;
    if (thing !== undefined && commands === 'commands') {
      if (segments.length === 3) return { kind: 'commands', thingId: token(thing, 'thing', path) };
      if (segments.length === 5 && command !== undefined && result === 'result') {
        return {
          kind: 'result',
          thingId: token(thing, 'thing', path),
          commandId: token(command, 'command', path),
        };
      }
    }
    throw notFound(`${path} is not /things/{thing}/commands[/{command}/result]`);
  }
  try {
    // the /ct/ suffix is MQTT's way to name a type; CoAP has Content-Format
    const topic = parseMessageTopic(segments);
    if (topic.contentType !== undefined) throw notFound(`${path}: use the Content-Format option, not /ct/`);
    return { kind: 'messages', channelId: topic.channel, subtopic: topic.subtopic };
  } catch (err) {
    if (isSubjectError(err)) throw notFound(err.message, err);
    throw err;
  }
}

/** The thing key of a request: its `auth` Uri-Query (`?auth=<key>`, Mainflux's form). */
export function authOf(queries: readonly string[]): string {
  for (const query of queries) {
    if (query.startsWith('auth=')) return query.slice(5);
  }
  throw new IngestError('unauthenticated', 'send the thing key as ?auth=<key>');
}
