export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const NODE_ENVS = ["development", "production", "test"] as const;

/**
 * Every setting the server reads: its environment variable, the `warren server` flag
 * that overrides it, the default, and what it means. The README's configuration table
 * is generated from this list (npm run docs), so the two cannot drift.
 */
export const SETTINGS = [
  {
    env: "NODE_ENV",
    default: "development",
    doc: "`production` requires JWT_SECRET and DATA_ENCRYPTION_KEY; anything else may generate them under DATA_DIR.",
  },
  { env: "PORT", default: "8080", doc: "TCP port for HTTP (or HTTPS when TLS_CERT is set)." },
  { env: "HOST", default: "0.0.0.0", doc: "Interface to listen on." },
  {
    env: "LISTEN_BACKLOG",
    default: "4096",
    doc: "Connections the kernel holds for the server before it accepts them. A reconnect storm (every client back at once after a restart) overflows a short queue, and each client dropped there waits 1, 3 or 7 s to try again. Linux caps it at `net.core.somaxconn`.",
  },
  {
    env: "SERVER_ADDR",
    default: "",
    doc: "A `host:port` form kept for older deployments (`:8080`, `127.0.0.1:9000`); overrides HOST and PORT.",
  },
  { env: "DATA_DIR", default: "./data", doc: "Directory for the SQLite file and the generated signing key." },
  {
    env: "DB_PATH",
    default: "<DATA_DIR>/warren.db",
    doc: "SQLite database file, used when DATABASE_URL is not set.",
  },
  {
    env: "DATABASE_URL",
    default: "",
    doc: "`postgres://user:pass@host:5432/db` selects PostgreSQL instead of SQLite.",
  },
  { env: "DATABASE_POOL_SIZE", default: "10", doc: "PostgreSQL connections per server process." },
  {
    env: "DB_STATEMENT_TIMEOUT",
    default: "5s",
    doc: "PostgreSQL: a statement running longer is cancelled and the request answers 503 `service_unavailable` with Retry-After.",
  },
  {
    env: "DB_LOCK_TIMEOUT",
    default: "2s",
    doc: "How long a query waits for a lock another transaction holds (PostgreSQL `lock_timeout`; SQLite's busy timeout, capped at 1s since SQLite waits on the event loop) before the request answers 503.",
  },
  {
    env: "DB_ACQUIRE_TIMEOUT",
    default: "3s",
    doc: "PostgreSQL: how long a request waits for a free pooled connection before it answers 503.",
  },
  {
    env: "REDIS_URL",
    default: "",
    doc: "`redis://host:6379` runs several instances as one: the hub's events travel Redis pub/sub, and live room membership, presence, message rate limits and sign-in failure counters live in Redis. Unset: one process, in-memory bus.",
  },
  {
    env: "REDIS_KEY_PREFIX",
    default: "warren:",
    doc: "Prefix of every Redis key and channel, so several deployments can share one Redis.",
  },
  {
    env: "INSTANCE_ID",
    default: "<random>",
    doc: "This instance's name in Redis (letters, digits, `.`, `_`, `-`). Must differ between instances; a random one is chosen at each start.",
  },
  {
    env: "INSTANCE_TTL",
    default: "30s",
    doc: "With Redis: an instance silent this long counts as dead; another takes its users offline. Heartbeats go every third of it.",
  },
  {
    env: "JWT_SECRET",
    default: "",
    doc: "HS256 signing secret, at least 32 characters. Required in production; otherwise generated under DATA_DIR on first start.",
  },
  {
    env: "DATA_ENCRYPTION_KEY",
    default: "",
    doc: "32 bytes (64 hex digits or base64) sealing secrets stored in the database (TOTP secrets) with AES-256-GCM. Required in production; otherwise generated under DATA_DIR on first start. Rotation: docs/operations.md.",
  },
  {
    env: "DATA_ENCRYPTION_OLD_KEYS",
    default: "",
    doc: "Comma-separated keys that used to be DATA_ENCRYPTION_KEY: still read, never written. `warren-server rotate-keys` re-seals everything with the current key, after which they can go.",
  },
  { env: "ACCESS_TOKEN_TTL", default: "15m", doc: "Lifetime of access tokens (JWT)." },
  { env: "REFRESH_TOKEN_TTL", default: "30d", doc: "Lifetime of refresh tokens and of an idle session." },
  { env: "CHALLENGE_TTL", default: "60s", doc: "Lifetime of a key sign-in challenge." },
  {
    env: "FRESH_AUTH_WINDOW",
    default: "10m",
    doc: "Adding or removing sign-in and message keys, TOTP changes and setting a password need a proof of identity (sign-in or POST /v1/auth/reauthenticate) at most this old.",
  },
  { env: "TOTP_ISSUER", default: "warren", doc: "Issuer name shown in authenticator apps." },
  {
    env: "LOGIN_MAX_FAILURES",
    default: "10",
    doc: "Failed sign-ins allowed per account within LOGIN_FAILURE_WINDOW before 429.",
  },
  {
    env: "LOGIN_MAX_FAILURES_PER_IP",
    default: "50",
    doc: "Failed sign-ins allowed per client address within LOGIN_FAILURE_WINDOW before 429.",
  },
  {
    env: "LOGIN_FAILURE_WINDOW",
    default: "15m",
    doc: "Window (and lockout length) for the sign-in failure limits.",
  },
  { env: "LOG_LEVEL", default: "info", doc: `One of ${LOG_LEVELS.join(", ")}.` },
  { env: "LOG_CLIENT_IP", default: "false", doc: "Write client IP addresses into request logs." },
  { env: "AUDIT_CLIENT_IP", default: "false", doc: "Record client IP addresses in audit events." },
  {
    env: "TRUST_PROXY",
    default: "false",
    doc: "Take the client address from X-Forwarded-For: `true` trusts every hop, a number trusts that many hops, or a comma-separated list of proxy addresses/CIDRs. Set only behind a reverse proxy.",
  },
  {
    env: "ALLOWED_ORIGINS",
    default: "",
    doc: "Comma-separated browser origins allowed by CORS and for WebSocket upgrades (403 otherwise). Empty: no cross-origin REST calls; WebSocket upgrades from any origin.",
  },
  { env: "BODY_LIMIT", default: "1MiB", doc: "Largest request body accepted (413 above it)." },
  {
    env: "MAX_JSON_DEPTH",
    default: "32",
    doc: "Deepest nesting of arrays and objects accepted in a JSON body or WebSocket frame (400 `json_too_deep` above it).",
  },
  {
    env: "HTTP_HEADERS_TIMEOUT",
    default: "10s",
    doc: "A request whose headers have not all arrived after this long is answered 408 and closed.",
  },
  {
    env: "HTTP_REQUEST_TIMEOUT",
    default: "30s",
    doc: "A request whose body has not all arrived after this long is answered 408 and closed (slow or endless bodies).",
  },
  {
    env: "HTTP_IDLE_TIMEOUT",
    default: "60s",
    doc: "An HTTP connection with no traffic this long is closed (keep-alive connections idle between requests close after 5s).",
  },
  { env: "TLS_CERT", default: "", doc: "PEM certificate file; with TLS_KEY the server speaks HTTPS." },
  { env: "TLS_KEY", default: "", doc: "PEM private key file for TLS_CERT." },
  { env: "HTTP_REDIRECT_PORT", default: "", doc: "With TLS on, plain HTTP on this port redirects to HTTPS." },
  {
    env: "SHUTDOWN_TIMEOUT",
    default: "10s",
    doc: "On SIGTERM/SIGINT, how long WebSockets and in-flight requests get, together, to finish.",
  },
  {
    env: "MAX_MESSAGE_BYTES",
    default: "64KiB",
    doc: "Largest WebSocket frame accepted; a bigger one closes the socket with 1009.",
  },
  {
    env: "SLOW_CLIENT_BYTES",
    default: "4MiB",
    doc: "Unsent bytes a socket may queue before it is closed with 1013 (a client that does not read).",
  },
  {
    env: "HEARTBEAT_INTERVAL",
    default: "25s",
    doc: "How often the server pings each socket; a socket that misses two pings is dropped.",
  },
  {
    env: "HANDSHAKE_TIMEOUT",
    default: "10s",
    doc: "A socket must finish its upgrade and send one valid frame within this time.",
  },
  {
    env: "MESSAGE_RATE_LIMIT",
    default: "20",
    doc: "Frames per second per user, across all their sockets (token bucket refill).",
  },
  { env: "MESSAGE_BURST_LIMIT", default: "50", doc: "Token bucket size: frames a user may send at once." },
  {
    env: "UPGRADE_RATE_LIMIT",
    default: "60",
    doc: "WebSocket upgrades per client address per minute (429 above it).",
  },
  {
    env: "MAX_SOCKETS_PER_USER",
    default: "20",
    doc: "Open hub sockets one account may hold on one instance; one more is closed with 1008 and the reason.",
  },
  {
    env: "MAX_PENDING_UPGRADES_PER_ADDRESS",
    default: "20",
    doc: "WebSocket upgrades from one client address still being checked (not yet authenticated) at once; more answer 429. Behind a proxy this counts the forwarded address only with TRUST_PROXY.",
  },
  { env: "MAX_CLIENTS_PER_ROOM", default: "50", doc: "Default and largest member count of a room." },
  {
    env: "ROOM_GRACE_PERIOD",
    default: "30s",
    doc: "How long a dropped connection keeps its room seats for a reconnect.",
  },
  { env: "ROOM_KICK_BAN", default: "10m", doc: "How long a user kicked from a room may not rejoin it." },
  {
    env: "ROOM_PASSWORD_MAX_FAILURES",
    default: "5",
    doc: "Wrong room passwords per user and room within LOGIN_FAILURE_WINDOW before rate_limited.",
  },
  { env: "ROOM_EXPIRY_DAYS", default: "7", doc: "Rooms with no activity for this many days are removed." },
  {
    env: "CLEANUP_INTERVAL",
    default: "1h",
    doc: "How often expired rooms and expired direct-message copies are looked for, and old analytics removed.",
  },
  {
    env: "MESSAGE_TTL_DAYS",
    default: "30",
    doc: "Direct-message copies not delivered within this many days expire (fractions allowed) and their senders are told.",
  },
  {
    env: "ALLOW_UNVERIFIED",
    default: "false",
    doc: "Store direct messages signed with a key the sender has not registered (marked `unverified`) instead of refusing them.",
  },
  {
    env: "ALLOW_UNSIGNED",
    default: "false",
    doc: "Store direct messages without a signature (marked `unsigned`) instead of refusing them.",
  },
  {
    env: "RECONNECT_AFTER",
    default: "2s",
    doc: "On shutdown, how long clients are told to wait before reconnecting.",
  },
  {
    env: "ADMIN_USERS",
    default: "",
    doc: "Comma-separated usernames (or user ids) of server admins: they may run admin-only server commands and read /v1/analytics. The first account created on an empty server is an admin too.",
  },
  {
    env: "ANALYTICS_RETENTION_DAYS",
    default: "400",
    doc: "Analytics (hub sessions, active users, message counts) older than this many days are removed by the cleanup loop.",
  },
  {
    env: "ANALYTICS_FLUSH_INTERVAL",
    default: "60s",
    doc: "How often message counts kept in memory are added to the database (and at midnight UTC and shutdown).",
  },
  {
    env: "STATS_TOKEN",
    default: "",
    doc: "When set, GET /stats requires `Authorization: Bearer <STATS_TOKEN>` (or ?token=).",
  },
  {
    env: "STUN_PORT",
    default: "3478",
    doc: "UDP port answering STUN Binding requests (RFC 8489), so devices learn their public address; open it in the firewall. Empty: no STUN (devices then use the relay or LAN addresses).",
  },
  {
    env: "STUN_ALT_PORT",
    default: "<STUN_PORT+1>",
    doc: "A second STUN port: a device asking both from one socket learns whether its NAT maps per destination (symmetric). Empty with STUN_PORT set: STUN_PORT+1; `off`: none.",
  },
  {
    env: "STUN_RATE_LIMIT",
    default: "20",
    doc: "STUN requests per second per source address (burst twice that); more are dropped.",
  },
  {
    env: "RELAY_RATE_LIMIT",
    default: "16MiB",
    doc: "Bytes per second one device may send through the packet relay (burst twice that); more are dropped and counted as refusals. `0`: the relay is off.",
  },
  {
    env: "RELAY_URL",
    default: "",
    doc: "With several instances: the base URL (`https://relay3.example.org`) where devices reach this instance's packet relay directly, given to devices as their home relay. Empty: the URL the device connected to.",
  },
] as const;
