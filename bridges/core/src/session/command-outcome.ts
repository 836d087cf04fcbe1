/** What a thing reported about a command it was sent. */
export type CommandOutcome = { status: 'succeeded'; result?: unknown } | { status: 'failed'; reason: string };

/** The reason recorded for a failure the device did not explain. */
const UNEXPLAINED_FAILURE = 'the device reported a failure';

/**
 * A device's command result, whatever the protocol carried it: JSON `{"status":"succeeded",
 * "result":…}` or `{"status":"failed","reason":"…"}`; any other JSON value, or text that is not
 * JSON, counts as success with that value as the result.
 */
export function commandOutcomeOf(body: Uint8Array): CommandOutcome {
  const text = new TextDecoder().decode(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { status: 'succeeded', result: text };
  }
  if (parsed === null || typeof parsed !== 'object') return { status: 'succeeded', result: parsed };
  const report = parsed as { status?: unknown; result?: unknown; reason?: unknown };
  if (report.status === 'failed') {
    return { status: 'failed', reason: String(report.reason ?? '').slice(0, 1024) || UNEXPLAINED_FAILURE };
  }
  return report.result === undefined
    ? { status: 'succeeded' }
    : { status: 'succeeded', result: report.result };
}
