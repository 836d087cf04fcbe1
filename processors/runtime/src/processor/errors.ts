/** A message that will fail however often it is retried: it goes to the DLQ at once. */
export class PermanentError extends Error {
  readonly code = 'PERMANENT';
}

export function isPermanentError(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}

/** Headers a DLQ entry carries besides the original message's. */
export const DLQ_HEADERS = {
  reason: 'Telly-DLQ-Reason',
  stream: 'Telly-DLQ-Stream',
  subject: 'Telly-DLQ-Subject',
  sequence: 'Telly-DLQ-Sequence',
  deliveries: 'Telly-DLQ-Deliveries',
} as const;
