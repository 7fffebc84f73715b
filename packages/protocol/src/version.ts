/**
 * The newest protocol version, which a WebSocket client asks for in its subprotocols
 * (docs/protocol.md "Protocol versions"). A version may rename frames; the server
 * accepts the old names and sends them to sockets of the version before for one
 * version, then they go. Otherwise the wire protocol only grows: new fields and frames,
 * never a changed meaning.
 */
export const PROTOCOL_VERSION = 2;
/** The oldest version the server still speaks: a socket that names none speaks this one. */
export const OLDEST_PROTOCOL_VERSION = 1;
/** The WebSocket subprotocol naming a version, e.g. "warren.v2". */
export const subprotocolOf = (version: number): string => `warren.v${version}`;
export const API_PREFIX = "/v1";
