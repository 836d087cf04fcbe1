// The MQTT ingest reference: nats-server's built-in MQTT with JetStream, file storage, and a
// stream with the settings of Telly's MESSAGES stream capturing the subjects the device topics
// map to (channels/… → channels.…). The unpatched upstream server, with the sync_interval asked
// for: its default (2m: acks before the data is synced) or `always` (one fsync per message).
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort, NatsServer } from '@telly/harness';
import { streamConfigs } from '@telly/runtime';
import { STREAMS } from '@telly/schemas';
import { upstreamNatsServer } from './upstream-nats.ts';

export const REFERENCE_STREAM = 'REFERENCE';

export interface NatsMqttReference extends AsyncDisposable {
  mqttUrl: string;
  natsUrl: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/** nats-server's default JetStream sync_interval (server/filestore.go, defaultSyncInterval). */
export const NATS_DEFAULT_SYNC_INTERVAL = '2m';

export async function startNatsMqttReference(syncInterval: string): Promise<NatsMqttReference> {
  const mqttPort = await freePort();
  const server = await NatsServer.start({
    bin: upstreamNatsServer(),
    extraConfig: `mqtt {\n  port: ${mqttPort}\n}`,
    syncInterval,
  });
  try {
    const messages = streamConfigs().find((config) => config.name === STREAMS.MESSAGES.name);
    if (!messages) throw new Error('no MESSAGES stream config');
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ ...messages, name: REFERENCE_STREAM, subjects: ['channels.>'] });
    } finally {
      await nc.close();
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
  const stop = () => server.stop();
  return {
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    natsUrl: server.url,
    pid: server.process.pid!,
    version: server.version,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
