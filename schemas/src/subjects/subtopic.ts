import { SubjectError } from './errors.ts';
import { assertSubtopic, tokenError, tokenProblem } from './tokens.ts';

/**
 * Subtopics as devices write them (MQTT topic levels, HTTP path segments after
 * `channels/{channel}/messages`) and as subjects carry them (tokens after the thing).
 * `channels/c/messages/a/b` ⇄ `msg.<t>.c.<thing>.a.b`. Each level must be a valid token, so the
 * mapping is exact both ways; empty levels (`a//b`, a trailing `/`) are rejected rather than
 * silently dropped, because they would not come back the same.
 *
 * HTTP callers pass percent-*decoded* segments (decode each segment after splitting on `/`).
 */
export function subtopicFromSegments(segments: readonly string[]): readonly string[] {
  return assertSubtopic([...segments], segments.join('/'));
}

/** `'a/b'` → `['a', 'b']`; `''` → `[]`. */
export function subtopicFromPath(path: string): readonly string[] {
  return path === '' ? [] : subtopicFromSegments(path.split('/'));
}

/** Subject tokens back to a topic/path suffix: `['a', 'b']` → `'a/b'`. */
export function subtopicToPath(subtopic: readonly string[]): string {
  return assertSubtopic(subtopic).join('/');
}

/** The level that marks a content-type suffix: `…/ct/application_senml-json`. */
export const CONTENT_TYPE_MARKER = 'ct';

/**
 * RFC 6838 §4.2.8 structured syntax suffixes; only before one of these does `-` stand for `+`
 * (so `application_octet-stream` stays `application/octet-stream`).
 */
const STRUCTURED_SUFFIXES = new Set([
  'json',
  'cbor',
  'xml',
  'exi',
  'zip',
  'gzip',
  'zstd',
  'ber',
  'der',
  'fastinfoset',
  'wbxml',
  'jwt',
  'yaml',
  'sqlite3',
]);

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/**
 * Splits a Mainflux-style content-type suffix off topic/path segments:
 * `['a', 'ct', 'application_senml-json']` → `{ segments: ['a'], contentType: 'application/senml+json' }`.
 * In the suffix `_` stands for `/` and `-` before a structured-syntax suffix (`json`, `cbor`, …)
 * for `+`, since `/` and `+` cannot appear in an MQTT topic level. Without the marker as the
 * second-last segment the segments come back unchanged and `contentType` is `undefined`.
 * Throws `INVALID_CONTENT_TYPE` when the suffix does not decode to a media type.
 */
export function splitContentTypeSuffix(segments: readonly string[]): {
  segments: readonly string[];
  contentType: string | undefined;
} {
  if (segments.length < 2 || segments[segments.length - 2] !== CONTENT_TYPE_MARKER) {
    return { segments, contentType: undefined };
  }
  return {
    segments: segments.slice(0, -2),
    contentType: decodeContentTypeSegment(segments[segments.length - 1] as string),
  };
}

/** `'application_senml-json'` → `'application/senml+json'` (see {@link splitContentTypeSuffix}). */
export function decodeContentTypeSegment(segment: string): string {
  const lower = segment.toLowerCase();
  const slash = lower.indexOf('_');
  let contentType = lower;
  if (slash > 0) {
    let subtype = lower.slice(slash + 1);
    const dash = subtype.lastIndexOf('-');
    if (dash > 0 && STRUCTURED_SUFFIXES.has(subtype.slice(dash + 1))) {
      subtype = `${subtype.slice(0, dash)}+${subtype.slice(dash + 1)}`;
    }
    contentType = `${lower.slice(0, slash)}/${subtype}`;
  }
  if (!MEDIA_TYPE.test(contentType)) {
    throw new SubjectError(
      'INVALID_CONTENT_TYPE',
      `content-type suffix ${JSON.stringify(segment)} does not decode to a media type (expected e.g. application_senml-json)`,
      { field: 'contentType', token: segment },
    );
  }
  return contentType;
}

/** `'application/senml+json'` → `'application_senml-json'`, the inverse of {@link decodeContentTypeSegment}. */
export function encodeContentTypeSegment(contentType: string): string {
  const lower = contentType.toLowerCase();
  if (!MEDIA_TYPE.test(lower)) {
    throw new SubjectError('INVALID_CONTENT_TYPE', `${JSON.stringify(contentType)} is not a media type`, {
      field: 'contentType',
      token: contentType,
    });
  }
  return lower.replace('/', '_').replace(/\+/g, '-');
}

/** A parsed `channels/{channel}/messages[/{subtopic…}][/ct/{content type}]` topic or path. */
export interface MessageTopic {
  readonly channel: string;
  readonly subtopic: readonly string[];
  readonly contentType: string | undefined;
}

/**
 * Parses the publish topic of docs/devices.md (MQTT topic, or HTTP/CoAP path with or without a
 * leading `/`). Pass a string to split on `/`, or already split (HTTP: percent-decoded)
 * segments. Throws `INVALID_TOPIC` for another shape, a token error for a bad channel or
 * subtopic level.
 */
export function parseMessageTopic(topic: string | readonly string[]): MessageTopic {
  let segments = typeof topic === 'string' ? topic.split('/') : topic;
  if (segments[0] === '') segments = segments.slice(1);
  const text = typeof topic === 'string' ? topic : topic.join('/');
  if (segments.length < 3 || segments[0] !== 'channels' || segments[2] !== 'messages') {
    throw new SubjectError(
      'INVALID_TOPIC',
      `${JSON.stringify(text)} is not channels/{channel}/messages[/{subtopic…}]`,
      { subject: text },
    );
  }
  const channel = segments[1] as string;
  const problem = tokenProblem(channel);
  if (problem !== undefined) throw tokenError(problem, channel, 'channel', text);
  const { segments: rest, contentType } = splitContentTypeSuffix(segments.slice(3));
  return { channel, subtopic: subtopicFromSegments(rest), contentType };
}
