// The device simulator's programmatic API (the `telly simulate` command is in cli.ts).
export type { SimulateArgs } from './cli.ts';
export { parseSimulateArgs, SIMULATE_USAGE, simulateCommand } from './cli.ts';
export { isProvisionError, isUsageError, ProvisionError, SendRefusedError, UsageError } from './errors.ts';
export type { FleetOptions } from './fleet.ts';
export {
  DEFAULT_CONNECT_RATE,
  DEFAULT_MAX_INFLIGHT,
  DEFAULT_RATE,
  DEFAULT_VALUES,
  Fleet,
} from './fleet.ts';
export type { ProvisionedFleet, ProvisionOptions } from './provision.ts';
export { logIn, provisionFleet } from './provision.ts';
export type { Sensor, SensorRecord } from './sensors.ts';
export { boardSensors, SENSORS, SensorBoard } from './sensors.ts';
export type { Ack, DeviceCredentials, FleetCounters, Protocol, Transport } from './types.ts';
