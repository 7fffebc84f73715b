/** WebSocket close codes the server uses (RFC 6455 §7.4.1, plus 4000-range of our own). */
export const CLOSE = {
  /** server shutting down: reconnect later */
  going_away: 1001,
  /** a binary frame: the protocol is JSON text only */
  unsupported_data: 1003,
  /** abuse: sustained sending far over the rate limit, or nothing valid in time */
  policy_violation: 1008,
  /** a frame over MAX_MESSAGE_BYTES */
  message_too_big: 1009,
  /** the client does not read: its unsent data passed SLOW_CLIENT_BYTES */
  try_again_later: 1013,
  /** the sign-in session behind this socket ended (logout, revocation) */
  session_ended: 4001,
  /** the account already holds MAX_SOCKETS_PER_USER sockets on this instance */
  too_many_connections: 4002,
} as const;
