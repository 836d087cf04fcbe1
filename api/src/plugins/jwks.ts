import type { Plugin } from 'graphql-yoga';
import { jwks, type SigningKey } from '../auth/signing-key.ts';

export const JWKS_PATH = '/.well-known/jwks.json';

/** The public keys access tokens are signed with, for services that verify tokens themselves. */
export function useJwks(keys: readonly SigningKey[]): Plugin {
  const body = JSON.stringify(jwks(keys));
  return {
    onRequest({ url, fetchAPI, endResponse }) {
      if (url.pathname !== JWKS_PATH) return;
      endResponse(
        new fetchAPI.Response(body, { status: 200, headers: { 'content-type': 'application/json' } }),
      );
    },
  };
}
