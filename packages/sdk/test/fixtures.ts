import {
  loadConfig,
  type RawSettings,
  type RunningServer,
  startServer,
} from "../../../apps/server/src/index.js";
import type { Backend } from "../../../apps/server/test/helpers/backends.js";
import {
  PASSWORD,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../../../apps/server/test/helpers/server.js";
import { type Client, createClient, type SocketEvents, type WarrenSocket } from "../src/index.js";

export { PASSWORD, uniqueName };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A new account on `url`, signed in through the SDK. */
export async function signUp(url: string, onTokens?: Parameters<typeof createClient>[0]["onTokens"]) {
  const client = createClient({ baseUrl: url, onTokens });
  const { user } = await client.auth.register({ username: uniqueName("sdk"), password: PASSWORD });
  return { client, user } as { client: Client; user: typeof user };
}

/** The next `type` event of `socket` (matching `match`), or a rejection after `ms`. */
export function nextEvent<K extends keyof SocketEvents>(
  socket: WarrenSocket,
  type: K,
  match: (event: SocketEvents[K]) => boolean = () => true,
  ms = 5000,
): Promise<SocketEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${String(type)} event within ${ms} ms`));
    }, ms);
    const off = socket.on(type, (event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

/**
 * A test server that can be stopped and started again on the same port over the same
 * database and signing key, as an operator's restart would.
 */
export async function restartableServer(backend: Backend, settings: RawSettings) {
  const t: TestServer = await startTestServer(backend, settings);
  let current: RunningServer = t.server;
  return {
    url: t.url,
    get server() {
      return current;
    },
    /** Stops the server (clients hear server.shutdown), then starts it again after `downMs`. */
    async restart(downMs = 0): Promise<void> {
      await current.close();
      await sleep(downMs);
      current = await startServer(
        loadConfig({
          HOST: "127.0.0.1",
          PORT: String(t.server.port),
          LOG_LEVEL: "silent",
          DATA_DIR: t.database.dataDir,
          DB_PATH: t.database.dbPath,
          DATABASE_URL: t.database.databaseUrl,
          ...settings,
        }),
      );
    },
    async close(): Promise<void> {
      await current.close();
      await t.close();
    },
  };
}
