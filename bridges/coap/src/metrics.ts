import { Counter, Gauge, type Registry } from 'prom-client';

/** The CoAP bridge's own metrics, beside bridge-core's `telly_bridge_*` (messages, acks, sessions). */
export interface CoapMetrics {
  requests: Counter<'method' | 'type' | 'code'>;
  observers: Gauge<'resource'>;
  uploads: Gauge;
  inFlight: Gauge;
}

export function coapMetrics(registry: Registry): CoapMetrics {
  return {
    requests: new Counter({
      name: 'telly_coap_requests_total',
      help: 'CoAP requests answered, by method, message type (CON, NON) and response code',
      labelNames: ['method', 'type', 'code'],
      registers: [registry],
    }),
    observers: new Gauge({
      name: 'telly_coap_observers',
      help: 'Open CoAP observations, by resource (commands, messages)',
      labelNames: ['resource'],
      registers: [registry],
    }),
    uploads: new Gauge({
      name: 'telly_coap_block1_uploads',
      help: 'Block1 uploads being reassembled',
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'telly_coap_requests_in_flight',
      help: 'Requests received and not answered yet (a publish waiting for its JetStream ack)',
      registers: [registry],
    }),
  };
}
