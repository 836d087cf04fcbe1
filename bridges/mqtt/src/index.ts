export type { MqttBridge, MqttBridgeOptions } from './bridge.ts';
export { startMqttBridge } from './bridge.ts';
export { component } from './component.ts';
export type { MqttConfig } from './config.ts';
export {
  DEFAULT_MQTT_PORT,
  DEFAULT_MQTT_TLS_PORT,
  DEFAULT_MQTT_WS_PORT,
  MQTT_WS_PATH,
  parseMqttConfig,
} from './config.ts';
export { sniffContentType } from './content-type.ts';
