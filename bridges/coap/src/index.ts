export type { Answer } from './answer.ts';
export type { CoapBridge, CoapBridgeOptions } from './bridge.ts';
export { startCoapBridge } from './bridge.ts';
export { component } from './component.ts';
export type { CoapConfig } from './config.ts';
export { DEFAULT_COAP_PORT, parseCoapConfig } from './config.ts';
export { CONTENT_FORMATS } from './content-format.ts';
export type { CoapTransport } from './transport.ts';
export { openUdpTransport } from './transport.ts';
