import type { AddressInfo } from 'node:net';
import type { CoapPacket, Server } from 'coap';
import { generate, type Packet } from 'coap-packet';
import { readBlockOption, writeBlockOption } from './block-option.ts';
import type { Block1Step, Block1Uploads } from './block1-uploads.ts';

/** How a reassembled request reaches the handler: its last block's answer echoes `block1`. */
export interface Reassembled {
  block1: Buffer;
  /** The upload went over the size limit: refuse it (4.13) once the thing is known. */
  tooLarge?: number;
}

const option = (packet: CoapPacket, name: string): Buffer | undefined => {
  const found = packet.options?.find((o) => o.name === name);
  return found && Buffer.isBuffer(found.value) ? found.value : undefined;
};

const uri = (packet: CoapPacket) =>
  (packet.options ?? [])
    .filter((o) => o.name === 'Uri-Path' || o.name === 'Uri-Query')
    .map((o) => `${o.name === 'Uri-Path' ? '/' : '?'}${String(o.value)}`)
    .join('');

/**
 * Takes Block1 requests (RFC 7959) away from node-coap's own reassembly, which keys uploads by
 * token and so refuses libcoap's coap-client, which sends each block with a new token ("Byte
 * offset not the next in line"). Blocks are reassembled by {@link Block1Uploads} keyed by endpoint
 * and URI; intermediate ones are answered 2.31 Continue here, and the last is handed on to
 * node-coap as one request with the whole body, so the rest (its response cache for
 * retransmissions included) works unchanged. Also tells `onAck` about every ACK, before node-coap
 * settles it, so confirmable notifications can count as delivered.
 *
 * The patch wraps the instance's `_handle` (public in node-coap's typings), and nothing else.
 */
export function patchServer(
  server: Server,
  uploads: Block1Uploads,
  reassembled: WeakMap<object, Reassembled>,
  hooks: {
    send: (datagram: Buffer, rsinfo: AddressInfo) => void;
    onAck: (packet: CoapPacket, rsinfo: AddressInfo) => void;
    onUploads: (count: number) => void;
    /**
     * Checks the key of an upload's first block (its Uri-Query), so that no stranger makes the
     * bridge buffer uploads: the refusal to answer with, or undefined to go on.
     */
    admit: (queries: string[]) => Promise<Refusal | undefined>;
  },
): void {
  const handle = server._handle.bind(server);
  server._handle = (packet: CoapPacket, rsinfo: AddressInfo) => {
    if (packet.ack) hooks.onAck(packet, rsinfo);
    const raw = option(packet, 'Block1');
    const isRequest =
      typeof packet.code === 'string' && packet.code.startsWith('0.') && packet.code !== '0.00';
    if (raw === undefined || !isRequest || packet.ack || packet.reset) return handle(packet, rsinfo);
    const reply = (code: string, options: Packet['options'], payload?: string) =>
      hooks.send(
        generate({
          messageId: packet.messageId,
          token: packet.token,
          code,
          confirmable: false,
          ack: packet.confirmable === true,
          options,
          payload: Buffer.from(payload ?? ''),
        }),
        rsinfo,
      );
    const block = readBlockOption(raw);
    if (!block) return reply('4.00', [], 'malformed Block1 option');
    const echo = (more: boolean) => writeBlockOption({ ...block, more });

    const take = () => {
      const step: Block1Step = uploads.add(
        `${rsinfo.address}|${rsinfo.port}|${uri(packet)}`,
        packet.messageId ?? 0,
        block,
        packet.payload ?? Buffer.alloc(0),
      );
      hooks.onUploads(uploads.size);
      switch (step.kind) {
        case 'busy':
          return reply('5.03', maxAge(5), 'too many uploads in progress; retry');
        case 'incomplete':
          return reply('4.08', [], step.message);
        case 'continue':
          return reply('2.31', [{ name: 'Block1', value: echo(true) }]);
        case 'too-large':
        case 'complete': {
          const size1 = option(packet, 'Size1');
          const announced = size1 && size1.length > 0 ? size1.readUIntBE(0, Math.min(size1.length, 4)) : 0;
          packet.options = (packet.options ?? []).filter((o) => o.name !== 'Block1' && o.name !== 'Size1');
          packet.payload = step.kind === 'complete' ? step.body : Buffer.alloc(0);
          reassembled.set(packet, {
            block1: echo(false),
            ...(step.kind === 'too-large' ? { tooLarge: Math.max(step.bytes, announced) } : {}),
          });
          return handle(packet, rsinfo);
        }
      }
    };

    if (block.num > 0) return take();
    const queries = (packet.options ?? []).filter((o) => o.name === 'Uri-Query').map((o) => String(o.value));
    void hooks.admit(queries).then((refusal) => {
      if (!refusal) return take();
      reply(refusal.code, refusal.maxAge === undefined ? [] : maxAge(refusal.maxAge), refusal.message);
    });
  };
}

/** What {@link patchServer}'s `admit` answers an upload it refuses with. */
export interface Refusal {
  code: string;
  message: string;
  /** Seconds, as Max-Age. */
  maxAge?: number;
}

const maxAge = (seconds: number): Packet['options'] => [
  { name: 'Max-Age', value: Buffer.of(Math.min(Math.max(1, Math.ceil(seconds)), 255)) },
];
