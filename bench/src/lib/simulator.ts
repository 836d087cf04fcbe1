// The device simulator of `telly simulate`, as the bench drives it.
export type {
  Ack,
  DeviceCredentials,
  FleetCounters,
  ProvisionedFleet,
} from '@telly/deploy/simulate';
export { Fleet, logIn, provisionFleet, SensorBoard } from '@telly/deploy/simulate';
