import { errorPredicate, TellyError } from '@telly/schemas';

/** Why a registry command was refused. Stable codes; the API maps them to its error codes. */
export type RegistryErrorCode =
  /** The entity does not exist in this tenant (or was deleted). Never says whether it exists elsewhere. */
  | 'NOT_FOUND'
  /** Creating something whose id is already taken. */
  | 'ALREADY_EXISTS'
  /** Another writer changed the entity between load and append; reload and decide again. */
  | 'CONFLICT'
  /** A unique value (email, bootstrap external id) is held by another entity. */
  | 'TAKEN'
  /** The command is well-formed but not allowed in the entity's state (e.g. removing the last owner). */
  | 'NOT_ALLOWED';

/** A registry command refused, with the reason as its code. */
export class RegistryError extends TellyError<RegistryErrorCode> {}

/** True when `err` is a {@link RegistryError} (optionally with the given code). */
export const isRegistryError = errorPredicate(RegistryError);

export function notFound(kind: string, id: string): RegistryError {
  return new RegistryError('NOT_FOUND', `${kind} ${id} not found`);
}
