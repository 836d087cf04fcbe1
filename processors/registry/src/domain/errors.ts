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

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;

  constructor(code: RegistryErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export function isRegistryError(err: unknown): err is RegistryError {
  return err instanceof RegistryError;
}

export function notFound(kind: string, id: string): RegistryError {
  return new RegistryError('NOT_FOUND', `${kind} ${id} not found`);
}
