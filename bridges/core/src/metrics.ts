import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The metrics every bridge exposes, labelled with its protocol. */
export interface BridgeMetrics {
  connections: Gauge<'protocol'>;
  messages: Counter<'protocol' | 'outcome' | 'reason'>;
  ackSeconds: Histogram<'protocol'>;
}

export function bridgeMetrics(registry: Registry): BridgeMetrics {
  return {
    connections: new Gauge({
      name: 'telly_bridge_connections',
      help: 'Open device connections',
      labelNames: ['protocol'],
      registers: [registry],
    }),
    messages: new Counter({
      name: 'telly_bridge_messages_total',
      help: 'Device messages by outcome (accepted, rejected) and rejection reason',
      labelNames: ['protocol', 'outcome', 'reason'],
      registers: [registry],
    }),
    ackSeconds: new Histogram({
      name: 'telly_bridge_ack_seconds',
      help: 'From receiving a message to its JetStream ack',
      labelNames: ['protocol'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
