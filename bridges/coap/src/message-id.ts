import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * The id a CoAP message is stored under (with the thing: `Nats-Msg-Id`). A retransmitted CON has
 * the same endpoint, message id and token (RFC 7252 §4.5), whichever bridge process receives it
 * — also one restarted meanwhile — so it is stored once. Message ids wrap after 65,536 and tokens
 * may repeat, so a digest of the payload is part of the id, as for MQTT packet ids.
 */
export function coapMessageId(
  rsinfo: Pick<AddressInfo, 'address' | 'port'>,
  messageId: number,
  token: Buffer | undefined,
  body: Uint8Array,
): string {
  const digest = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  const address = rsinfo.address.replace(/^::ffff:/, '').replaceAll(':', '-');
  return `coap:${address}:${rsinfo.port}:${messageId}:${token?.toString('hex') ?? ''}:${digest}`;
}
