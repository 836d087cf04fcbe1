/** Where devices connect, as the API serves it at /config.json (its hostname is the page's). */
export interface DeviceEndpoints {
  mqttPort: number;
  httpPort: number;
}

export interface CredentialsInput {
  /** The API's origin, e.g. `http://farm.example.com:4000`. */
  origin: string;
  thingId: string;
  key: string;
  channelIds: string[];
  endpoints: DeviceEndpoints | undefined;
  /** The thing's bootstrap external id, when it has one. */
  externalId?: string | undefined;
}

/**
 * What the QR code of a thing carries, as compact JSON: its id and key (the MQTT username and
 * password, the HTTP `Authorization: Thing <key>`), its channels, where to connect, and its
 * bootstrap URL when it has one.
 */
export function credentialsPayload(input: CredentialsInput): string {
  const url = new URL(input.origin);
  const payload: Record<string, unknown> = {
    thing: input.thingId,
    key: input.key,
    channels: input.channelIds,
  };
  if (input.endpoints) {
    payload.mqtt = `mqtt://${url.hostname}:${input.endpoints.mqttPort}`;
    payload.http = `http://${url.hostname}:${input.endpoints.httpPort}`;
  }
  if (input.externalId)
    payload.bootstrap = `${url.origin}/things/bootstrap/${encodeURIComponent(input.externalId)}`;
  return JSON.stringify(payload);
}

/** The options the QR code is drawn with: the test draws the expected code with the same. */
export const QR_OPTIONS = { type: 'svg', errorCorrectionLevel: 'M', margin: 2 } as const;
