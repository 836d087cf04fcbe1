import { isSubjectError, messageSubject } from '@telly/schemas';
import { HttpProblem } from './problem.ts';

/** Where a device posts messages; the second form carries a subtopic (docs/devices.md). */
export const MESSAGE_ROUTES = ['/channels/:channelId/messages', '/channels/:channelId/messages/*'] as const;
/** Mainflux clients post under this prefix (`/http/channels/…`); it is accepted as an alias. */
export const MAINFLUX_PREFIX = '/http';

/** Where a message goes, from its URL. */
export interface MessagePath {
  channelId: string;
  /** Subtopic levels, as subject tokens after the thing. */
  subtopic: readonly string[];
}

const notFound = (detail: string, cause?: unknown) =>
  new HttpProblem(404, 'invalid-topic', detail, cause === undefined ? undefined : { cause });

/**
 * The channel and subtopic of a request URL (`/[http/]channels/{channel}/messages[/{subtopic…}]`).
 * Segments are split on `/` *before* percent-decoding, so `%2F` cannot smuggle a level in, and each
 * must be a valid subject token. Throws a 404 {@link HttpProblem} naming the bad level.
 */
export function parseMessagePath(url: string): MessagePath {
  const path = url.split('?', 1)[0] ?? '';
  let segments = path.split('/').slice(1);
  if (`/${segments[0]}` === MAINFLUX_PREFIX) segments = segments.slice(1);
  const [root, rawChannel, messages, ...rawSubtopic] = segments;
  if (root !== 'channels' || rawChannel === undefined || messages !== 'messages') {
    throw notFound(`${path} is not /channels/{channel}/messages[/{subtopic…}]`);
  }
  let channelId: string;
  let subtopic: string[];
  try {
    channelId = decodeURIComponent(rawChannel);
    subtopic = rawSubtopic.map((segment) => decodeURIComponent(segment));
  } catch (err) {
    throw notFound(`${path} is not validly percent-encoded`, err);
  }
  try {
    // the subject builder holds the one definition of a valid channel and subtopic; the tenant
    // and thing are not known yet, so stand-in tokens take their place
    messageSubject({ tenant: '_', channel: channelId, thing: '_', subtopic });
  } catch (err) {
    if (isSubjectError(err)) throw notFound(err.message, err);
    throw err;
  }
  return { channelId, subtopic };
}
