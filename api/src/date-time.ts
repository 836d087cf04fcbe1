import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';

/** What a date-time argument looks like, shown in every refusal of one. */
export const DATE_TIME_EXAMPLE = '2026-01-01T00:00:00Z';

const expected = (value: unknown) =>
  `must be an RFC 3339 date-time with a time and a UTC offset, such as "${DATE_TIME_EXAMPLE}" or "2026-01-01T08:00:00+01:00" (got ${JSON.stringify(value)})`;

/**
 * The one reading of a date-time at the API's edge (GraphQL arguments and the CSV export's
 * query string): an RFC 3339 date-time (`graphql-scalars`' rule), or undefined. A bare date
 * (`2026-01-01`) is not one: it names no instant until a zone is given.
 */
export function parseDateTime(value: string): Date | undefined {
  try {
    return DateTimeResolver.parseValue(value) as Date;
  } catch {
    return undefined;
  }
}

/** Why `value` is not a date-time, with an example of one. */
export const dateTimeRefusal = (field: string, value: unknown) => `${field} ${expected(value)}`;

/**
 * `DateTime`: graphql-scalars' scalar (same wire format, same description), whose refusals
 * show an example of the expected form instead of "cannot represent an invalid date-time-string".
 */
export const DateTime = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  parseValue(value) {
    try {
      return DateTimeResolver.parseValue(value);
    } catch {
      throw new GraphQLError(`DateTime ${expected(value)}`);
    }
  },
  parseLiteral(ast) {
    const date = ast.kind === Kind.STRING ? parseDateTime(ast.value) : undefined;
    if (!date) throw new GraphQLError(`DateTime ${expected('value' in ast ? ast.value : ast.kind)}`);
    return date;
  },
});
