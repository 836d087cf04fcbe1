import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type ApiErrorCode, HTTP_STATUS } from '../errors.ts';

/** Nested selections an operation may have (fragments count as they are spread). @default 10 */
export const MAX_QUERY_DEPTH = 10;
/** Aliased fields in one operation (`__typename` aliases not counted). @default 15 */
export const MAX_QUERY_ALIASES = 15;
/** Lexical tokens of one document, counted while it is parsed. @default 2000 */
export const MAX_QUERY_TOKENS = 2_000;
/** Directives in one operation. @default 20 */
export const MAX_QUERY_DIRECTIVES = 20;

/**
 * A refusal of the limits, as a GraphQL error with its stable code. The message says the limit
 * and what was found; the code is what clients branch on.
 */
function refusal(code: ApiErrorCode, error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
    extensions: { code, http: { status: HTTP_STATUS[code] } },
  });
}

/** Reports the refusal as a validation error: the operation is not executed. */
const reported =
  (code: ApiErrorCode): GraphQLArmorRejectCallback =>
  (ctx, error) => {
    const coded = refusal(code, error);
    if (!ctx) throw coded;
    ctx.reportError(coded);
  };

/**
 * The limits on the shape of an operation, checked before anything runs (graphql-armor): depth
 * (QUERY_TOO_DEEP), aliases (TOO_MANY_ALIASES), tokens (QUERY_TOO_LARGE, while parsing, so a huge
 * document is not even parsed whole), directives (TOO_MANY_DIRECTIVES), and no "did you mean"
 * field suggestions in errors (they would map the schema for a caller without introspection).
 * The cost of an operation is the schema's (`complexity` in builder.ts, QUERY_TOO_COMPLEX): it
 * knows page sizes and variables, which a rule over the document alone cannot.
 */
export function useGraphqlLimits(): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: {
      n: MAX_QUERY_DEPTH,
      propagateOnRejection: false,
      onReject: [reported('QUERY_TOO_DEEP')],
    },
    maxAliases: {
      n: MAX_QUERY_ALIASES,
      propagateOnRejection: false,
      onReject: [reported('TOO_MANY_ALIASES')],
    },
    // a parse-time limit: the callback's error ends the parse at the first token too many
    maxTokens: { n: MAX_QUERY_TOKENS, propagateOnRejection: false, onReject: [reported('QUERY_TOO_LARGE')] },
    maxDirectives: {
      n: MAX_QUERY_DIRECTIVES,
      propagateOnRejection: false,
      onReject: [reported('TOO_MANY_DIRECTIVES')],
    },
    blockFieldSuggestion: { enabled: true },
    costLimit: { enabled: false },
  }) as Plugin;
}
