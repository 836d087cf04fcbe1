// The signed-in session: the access token in memory, the rotating refresh token in this tab's
// sessionStorage (so a reload keeps the session, and two tabs never race to spend one token,
// which would end the session as stolen), a refresh a minute before the access token expires.
import { ApiRequestError, describeError, isApiRequestError } from './errors.ts';
import { postGraphql } from './graphql.ts';

export type Role = 'owner' | 'admin' | 'operator' | 'analyst' | 'viewer';

export interface SessionUser {
  id: string;
  email: string;
  role: Role;
  tenant: { id: string; name: string };
}

interface AuthPayload {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  user: SessionUser;
}

export type SessionState =
  | { status: 'restoring' }
  | { status: 'signed-out'; notice?: string }
  | { status: 'signed-in'; user: SessionUser };

const STORAGE_KEY = 'telly.refreshToken';
/** Refresh this long before the access token expires. */
const REFRESH_AHEAD_MS = 60_000;
const AUTH_FIELDS = 'accessToken accessTokenExpiresAt refreshToken user { id email role tenant { id name } }';

let state: SessionState = { status: 'restoring' };
let access: { token: string; expiresAt: number } | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<string> | undefined;
const listeners = new Set<(s: SessionState) => void>();
const tokenListeners = new Set<() => void>();

const set = (next: SessionState) => {
  state = next;
  for (const l of listeners) l(state);
};

export const sessionState = () => state;
export function onSession(listener: (s: SessionState) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
/** Called whenever the access token changes (live views reconnect with the new one). */
export function onToken(listener: () => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

/**
 * How long the access token is valid, from its own `iat` and `exp` (both the server's clock),
 * so that a browser whose clock is off neither refreshes in a loop nor too late.
 */
function lifetimeMs(payload: AuthPayload): number {
  try {
    const claims = JSON.parse(
      atob(payload.accessToken.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')),
    ) as {
      iat?: number;
      exp?: number;
    };
    if (typeof claims.iat === 'number' && typeof claims.exp === 'number')
      return (claims.exp - claims.iat) * 1000;
  } catch {
    // not a JWT we can read: trust the stated expiry against our clock
  }
  return Date.parse(payload.accessTokenExpiresAt) - Date.now();
}

function store(payload: AuthPayload) {
  // expiry on this browser's clock, counted from now
  access = { token: payload.accessToken, expiresAt: Date.now() + lifetimeMs(payload) };
  sessionStorage.setItem(STORAGE_KEY, payload.refreshToken);
  clearTimeout(refreshTimer);
  const wait = Math.max(0, access.expiresAt - Date.now() - REFRESH_AHEAD_MS);
  refreshTimer = setTimeout(() => void refresh().catch(() => {}), wait);
  for (const l of tokenListeners) l();
  set({ status: 'signed-in', user: payload.user });
}

function end(notice?: string) {
  access = undefined;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(STORAGE_KEY);
  for (const l of tokenListeners) l();
  set(notice === undefined ? { status: 'signed-out' } : { status: 'signed-out', notice });
}

export async function login(email: string, password: string): Promise<void> {
  const { login } = await postGraphql<{ login: AuthPayload }>(
    `mutation Login($i: LoginInput!) { login(input: $i) { ${AUTH_FIELDS} } }`,
    { i: { email, password } },
    undefined,
  );
  store(login);
}

export async function signup(email: string, password: string, tenantName: string): Promise<void> {
  const { signup } = await postGraphql<{ signup: AuthPayload }>(
    `mutation Signup($i: SignupInput!) { signup(input: $i) { ${AUTH_FIELDS} } }`,
    { i: { email, password, tenantName } },
    undefined,
  );
  store(signup);
}

export async function logout(): Promise<void> {
  const refreshToken = sessionStorage.getItem(STORAGE_KEY);
  try {
    if (refreshToken)
      await postGraphql(
        'mutation Logout($r: String!) { logout(refreshToken: $r) }',
        { r: refreshToken },
        access?.token,
      );
  } finally {
    end();
  }
}

/**
 * Spends the refresh token for a new pair (one at a time). When it is refused the session is
 * over: the sign-in page says why.
 */
export function refresh(): Promise<string> {
  refreshing ??= (async () => {
    const refreshToken = sessionStorage.getItem(STORAGE_KEY);
    if (!refreshToken) {
      end('Your session ended. Log in again.');
      throw new ApiRequestError('no session', 'UNAUTHENTICATED');
    }
    try {
      const { refresh } = await postGraphql<{ refresh: AuthPayload }>(
        `mutation Refresh($r: String!) { refresh(refreshToken: $r) { ${AUTH_FIELDS} } }`,
        { r: refreshToken },
        undefined,
      );
      store(refresh);
      return refresh.accessToken;
    } catch (err) {
      // a network failure keeps the session (try again later); a refusal ends it
      if (!(isApiRequestError(err) && err.code === 'NETWORK')) end(`${describeError(err)}`);
      throw err;
    }
  })().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

/** A valid access token: the current one, or a fresh one when it is (about to be) expired. */
export async function accessToken(): Promise<string> {
  if (access && access.expiresAt - Date.now() > 5_000) return access.token;
  return refresh();
}

/** At page load: resume the session of this tab from its refresh token, if any. */
export async function restore(): Promise<void> {
  if (!sessionStorage.getItem(STORAGE_KEY)) return set({ status: 'signed-out' });
  await refresh().catch(() => {});
}

/**
 * An authenticated GraphQL request. A token that expired on the way is refreshed once and the
 * request sent again.
 */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const token = await accessToken();
  try {
    return await postGraphql<T>(query, variables, token);
  } catch (err) {
    if (!isApiRequestError(err) || (err.code !== 'TOKEN_EXPIRED' && err.code !== 'UNAUTHENTICATED'))
      throw err;
    return postGraphql<T>(query, variables, await refresh());
  }
}

/** An authenticated plain GET on the API (the CSV export). */
export async function authorizedFetch(path: string): Promise<Response> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${await accessToken()}` } });
  if (res.status !== 401) return res;
  return fetch(path, { headers: { authorization: `Bearer ${await refresh()}` } });
}

/** For tests and the "expire now" path: forget the access token so the next request refreshes. */
export function dropAccessToken() {
  if (access) access = { ...access, expiresAt: 0 };
}
