/** A command as a bridge hands it to the thing it addresses. */
export interface CommandDelivery {
  id: string;
  name: string;
  payload: unknown;
  /** RFC 3339 instant after which the thing should not carry it out. */
  expiresAt: string;
}

/** The bytes a device receives for a command: the delivery as JSON, whatever the protocol. */
export function encodeCommandDelivery(delivery: CommandDelivery): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(delivery));
}

/** The command id in bytes made by {@link encodeCommandDelivery}; undefined for anything else. */
export function commandIdOf(bytes: Uint8Array): string | undefined {
  try {
    const id = (JSON.parse(new TextDecoder().decode(bytes)) as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
