import { useEffect, useState } from 'preact/hooks';
import { credentialsPayload, type DeviceEndpoints, QR_OPTIONS } from '../credentials-payload.ts';
import { ErrorText } from '../ui.tsx';

/** A key just issued (create or rotate): shown once. */
export interface Issued {
  thingId: string;
  name: string;
  key: string;
  channelIds: string[];
  externalId?: string | undefined;
}

let endpoints: Promise<DeviceEndpoints | undefined> | undefined;
/** Device ports from the API (the hostname is this page's). */
export const deviceEndpoints = () => {
  endpoints ??= fetch('/config.json')
    .then((r) => (r.ok ? (r.json() as Promise<{ devices: DeviceEndpoints }>) : undefined))
    .then((c) => c?.devices)
    .catch(() => undefined);
  return endpoints;
};

/** The thing's credentials once, as text and as a QR code a device or phone can scan. */
export function Credentials({ issued }: { issued: Issued }) {
  const [svg, setSvg] = useState<string | undefined>();
  const [payload, setPayload] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let live = true;
    (async () => {
      const [{ default: QRCode }, found] = await Promise.all([import('qrcode'), deviceEndpoints()]);
      const text = credentialsPayload({ origin: location.origin, ...issued, endpoints: found });
      const drawn = await QRCode.toString(text, QR_OPTIONS);
      if (live) {
        setPayload(text);
        setSvg(drawn);
      }
    })().catch((err: unknown) => live && setError(err));
    return () => {
      live = false;
    };
  }, [issued]);
  return (
    <section class="credentials" aria-labelledby="credentials-title">
      <h2 id="credentials-title">Credentials of {issued.name}</h2>
      <p class="warn">The key is shown only now: copy it or scan the code. Rotate the key if it is lost.</p>
      <dl>
        <dt>Thing id (MQTT username)</dt>
        <dd>
          <code data-testid="thing-id">{issued.thingId}</code>
        </dd>
        <dt>Key (MQTT password, HTTP Authorization: Thing …)</dt>
        <dd>
          <code data-testid="thing-key">{issued.key}</code>
        </dd>
      </dl>
      <ErrorText error={error} />
      {svg && payload && (
        <figure>
          {/* the SVG is the qrcode library's own output for this payload, no user markup */}
          <div
            class="qr"
            role="img"
            aria-label="QR code of these credentials"
            dangerouslySetInnerHTML={{ __html: svg }}
          />
          <figcaption>
            Payload: <code data-testid="qr-payload">{payload}</code>
          </figcaption>
        </figure>
      )}
    </section>
  );
}
