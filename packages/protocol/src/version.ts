/** The wire protocol only grows: new fields and frames, never a changed meaning. */
export const PROTOCOL_VERSION = 1;
export const API_PREFIX = "/v1";
