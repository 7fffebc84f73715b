import {
  type Clock,
  type Config,
  loadConfig,
  type RawSettings,
  type RunningServer,
  startServer,
} from "../../src/index.js";
import type { Backend, TestDatabase } from "./backends.js";

export interface TestServer {
  url: string;
  server: RunningServer;
  config: Readonly<Config>;
  database: TestDatabase;
  api: Api;
  /** the server's clock: advance it instead of waiting out expiry */
  clock: TestClock;
  close(): Promise<void>;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export type Api = <T = any>(
  method: string,
  path: string,
  options?: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string },
) => Promise<ApiResponse<T>>;

/** A fetch wrapper: JSON in, JSON (or nothing) out, over a real socket. */
export function apiFor(url: string): Api {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(`${url}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: leave the text
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
}

/** A quiet loopback server's config over `database` (an existing one: restarts, instances). */
export function configFor(database: TestDatabase, settings: RawSettings = {}) {
  return loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    DATA_DIR: database.dataDir,
    DB_PATH: database.dbPath,
    DATABASE_URL: database.databaseUrl,
    ...settings,
  });
}

/** The system clock plus whatever a test has advanced it by: time still flows. */
export interface TestClock extends Clock {
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
  };
}

/** Starts a real server on a free loopback port over a fresh database of `backend`. */
export async function startTestServer(backend: Backend, settings: RawSettings = {}): Promise<TestServer> {
  const database = await backend.create();
  const config = configFor(database, settings);
  const clock = testClock();
  const server = await startServer(config, { clock });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    server,
    config,
    database,
    api: apiFor(url),
    clock,
    async close() {
      await server.close();
      await database.drop();
    },
  };
}

let counter = 0;
/** A username no other test in this process uses. */
export function uniqueName(prefix = "user"): string {
  counter += 1;
  return `${prefix}${process.pid}_${counter}`.slice(0, 32);
}

export const PASSWORD = "correct horse battery";

/** Registers a password account and returns its user and tokens. */
export async function register(api: Api, fields: Record<string, unknown> = {}) {
  const username = (fields.username as string) ?? uniqueName();
  const res = await api("POST", "/v1/auth/register", { body: { username, password: PASSWORD, ...fields } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as {
    user: { id: string; username: string };
    tokens: Record<string, any> & { access_token: string; refresh_token: string };
  };
}
