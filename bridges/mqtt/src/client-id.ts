/**
 * The broker's id of a client: `<thing>/<client id>`. aedes keys everything of a session by the
 * client id — stored subscriptions, queued QoS 1 deliveries, the takeover of a live connection
 * with the same id — so the bridge renames each client once its thing is authenticated, before
 * aedes looks any of it up: a thing only ever finds, resumes, wipes or takes over its own
 * sessions, whatever client id another thing chooses. Thing ids hold no `/`, so the name is
 * unambiguous.
 */
export function sessionClientId(thingId: string, clientId: string): string {
  return `${thingId}/${clientId}`;
}

/** The client id the device sent, from its {@link sessionClientId}. */
export function deviceClientId(thingId: string, sessionId: string): string {
  const prefix = `${thingId}/`;
  return sessionId.startsWith(prefix) ? sessionId.slice(prefix.length) : sessionId;
}
