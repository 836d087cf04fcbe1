/**
 * The one way to define a typed error in Telly: a class per failure, extending {@link TellyError}
 * with its stable codes, and an `isX` predicate made by {@link errorPredicate}. Callers branch on
 * `code`, never on the message; the cause travels in `ErrorOptions.cause`.
 */

/** An error with a stable, machine-readable `code`: what every typed error of Telly is. */
export interface CodedError<Code extends string = string> extends Error {
  readonly code: Code;
}

/**
 * Base of Telly's typed errors. `name` is the subclass's own name (so logs and stack traces say
 * which failure it was); `code` is one of the subclass's stable codes.
 *
 * @example
 * export class ReplayBusyError extends TellyError<'REPLAY_BUSY'> {
 *   constructor(projection: string) {
 *     super('REPLAY_BUSY', `a replay of ${projection} is already running`);
 *   }
 * }
 */
export abstract class TellyError<Code extends string = string> extends Error implements CodedError<Code> {
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The predicate {@link errorPredicate} makes: narrows to the class, and to one code when given. */
export type ErrorPredicate<E extends CodedError> = <C extends E['code'] = E['code']>(
  err: unknown,
  code?: C,
) => err is E & { readonly code: C };

/**
 * `isX(err, code?)` for an error class: true when `err` is an instance of `type` (a subclass
 * included) and, when `code` is given, carries that code.
 */
export function errorPredicate<E extends CodedError>(
  type: abstract new (...args: never[]) => E,
): ErrorPredicate<E> {
  return <C extends E['code']>(err: unknown, code?: C): err is E & { readonly code: C } =>
    err instanceof type && (code === undefined || err.code === code);
}
