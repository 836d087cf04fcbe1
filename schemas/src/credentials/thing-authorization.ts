/** The `Authorization` scheme of things, also sent back in `WWW-Authenticate`. */
export const THING_AUTH_SCHEME = 'Thing';

/**
 * The key in a thing's `Authorization` header (HTTP bridge, bootstrap): `Thing <key>` (scheme
 * case-insensitive), or the bare key as Mainflux clients send it. Undefined when the header is
 * missing, empty or uses another scheme (`Bearer` is for users of the API, not for things).
 */
export function parseThingAuthorization(header: string | undefined): string | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  const space = value.search(/\s/);
  // `Thing` alone is a scheme without its key, not a key
  if (space === -1) return value.toLowerCase() === THING_AUTH_SCHEME.toLowerCase() ? undefined : value;
  const key = value.slice(space).trim();
  if (value.slice(0, space).toLowerCase() !== THING_AUTH_SCHEME.toLowerCase()) return undefined;
  return key && !/\s/.test(key) ? key : undefined;
}
