/** A GraphQL or HTTP failure as the API reported it: its stable code, the input it names, its words. */
export class ApiRequestError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(message: string, code: string, field?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ApiRequestError';
    this.code = code;
    this.field = field;
  }
}

export const isApiRequestError = (err: unknown): err is ApiRequestError => err instanceof ApiRequestError;

/** What a person reads for a code; the API's own message follows where it says more. */
const WORDS: Record<string, string> = {
  UNAUTHENTICATED: 'You are not logged in, or your session ended. Log in again.',
  TOKEN_EXPIRED: 'Your session expired. Log in again.',
  FORBIDDEN: 'Your role does not allow this. Ask an admin of your tenant.',
  NOT_FOUND: 'It no longer exists, or it is not in your tenant.',
  INVALID_CREDENTIALS: 'Wrong email or password.',
  EMAIL_TAKEN: 'An account with this email already exists: log in instead.',
  EXTERNAL_ID_TAKEN: 'Another thing already uses this external id.',
  INVALID_REFRESH_TOKEN: 'Your session ended. Log in again.',
  REFRESH_TOKEN_REUSED: 'Your session was ended because its refresh token was used twice. Log in again.',
  UNAVAILABLE: 'The platform is not reachable right now; nothing was changed. Try again in a moment.',
  TOO_MANY_SUBSCRIPTIONS: 'Too many live views are open for your tenant. Close some and try again.',
  SLOW_CONSUMER: 'The live view fell behind and was restarted.',
  NETWORK: 'The server cannot be reached. Check your connection and try again.',
  INTERNAL_SERVER_ERROR: 'Something went wrong on the server. It was logged; try again.',
};

/** An error in words, never a bare code: the API's message where it explains, else ours. */
export function describeError(err: unknown): string {
  if (isApiRequestError(err)) {
    const ours = WORDS[err.code];
    if (err.code === 'TOO_MANY_ATTEMPTS') return `Too many attempts. ${err.message}`;
    if (err.code === 'VALIDATION_FAILED' || err.code === 'WEAK_PASSWORD' || err.code === 'NOT_ALLOWED')
      return sentence(err.message);
    if (err.code === 'INTERNAL_SERVER_ERROR') return ours!;
    return ours ?? sentence(err.message);
  }
  if (err instanceof Error) return sentence(err.message);
  return 'Something went wrong.';
}

const sentence = (text: string) => {
  const t = text.trim();
  if (!t) return 'Something went wrong.';
  const first = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
};
