// The sniffing rule is every bridge's whose protocol may carry no content type (bridge-core).
export { sniffContentType } from '@telly/bridge-core';
