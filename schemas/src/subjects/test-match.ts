import { TAIL_WILDCARD, TOKEN_WILDCARD } from './filters.ts';

/**
 * NATS subject matching, for tests that check filters without a server: `*` matches exactly
 * one token, a final `>` one or more.
 */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const token = f[i];
    if (token === TAIL_WILDCARD && i === f.length - 1) return s.length > i;
    if (i >= s.length) return false;
    if (token !== TOKEN_WILDCARD && token !== s[i]) return false;
  }
  return f.length === s.length;
}
