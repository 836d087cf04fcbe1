import { Counter, type Registry } from 'prom-client';

/** Why a connection was closed before it logged in. */
export type ConnectionRefusal = 'too-many-unauthenticated' | 'packet-too-large' | 'connect-timeout';

/**
 * `telly_mqtt_refused_connections_total{reason}`: connections closed by the bounds that hold
 * before authentication. Nothing of them reaches the log (the tenant is unknown, and anonymous
 * traffic must not fill it), so this is where an operator sees a flood.
 */
export function refusedConnections(registry: Registry): (reason: ConnectionRefusal) => void {
  const counter = new Counter({
    name: 'telly_mqtt_refused_connections_total',
    help: 'MQTT connections closed before they logged in, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  return (reason) => counter.inc({ reason });
}
