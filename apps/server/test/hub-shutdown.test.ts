import net from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { sqliteBackend } from "./helpers/backends.js";
import { removeTempDirs, type ServerProcess, startWarren, stopAll } from "./helpers/process.js";
import { apiFor, register, startTestServer, type TestServer } from "./helpers/server.js";
import { sleep, socketPool, until, type WsClient } from "./helpers/ws.js";

/**
 * Graceful shutdown of the hub: every client hears server_shutdown and is
 * closed with 1001, new upgrades are refused with 503, a client that does not answer
 * cannot hold the exit past SHUTDOWN_TIMEOUT, and a second signal exits at once.
 * In-process (RunningServer.close) and as a real `warren server` process.
 */

const pool = socketPool();
afterEach(async () => {
  await pool.closeAll();
  await stopAll();
});
afterAll(() => removeTempDirs());

/** Asserts the client's last frame was server_shutdown and its close was 1001. */
async function expectShutdownClose(c: WsClient, reconnectAfterMs: number) {
  const closed = await c.closed(5000);
  expect(closed.code).toBe(1001);
  const last = c.frames.at(-1);
  expect(last).toEqual({ type: "server_shutdown", reconnect_after_ms: reconnectAfterMs });
  expect(c.all("server_shutdown")).toHaveLength(1);
}

/** Pauses the client's socket: it stops reading, so it never answers the close handshake. */
function stopReading(c: WsClient) {
  (c.ws as any)._socket.pause();
}

describe("in-process shutdown", () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("sends server_shutdown then closes every client with 1001, and resolves promptly", async () => {
    t = await startTestServer(sqliteBackend, { SHUTDOWN_TIMEOUT: "5s", RECONNECT_AFTER: "1500ms" });
    const server = t;
    const [a, b] = await Promise.all([register(server.api), register(server.api)]);
    const clients = [
      await pool.connect(server.url, { token: a.tokens.access_token }),
      await pool.connect(server.url, { token: a.tokens.access_token, via: "protocol" }),
      await pool.connect(server.url, { token: b.tokens.access_token, via: "query", path: "/ws" }),
      // One that never sent a frame is told too.
      await pool.connect(server.url, { token: b.tokens.access_token, hello: false }),
    ];
    const room = await clients[0]?.request({ type: "room.create", name: "stays", persistent: true });
    expect(room?.type).toBe("result");
    expect(server.server.hub.stats.connections_active).toBe(4);

    const started = Date.now();
    await server.server.close();
    const took = Date.now() - started;
    for (const c of clients) await expectShutdownClose(c, 1500);
    expect(server.server.hub.stats.connections_active).toBe(0);
    // Every client answered the close, so nothing waited for SHUTDOWN_TIMEOUT.
    expect(took).toBeLessThan(2000);
    // The listener is gone afterwards.
    await expect(fetch(`${server.url}/health`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });

  it("answers upgrades with 503 while shutting down and cuts a silent client at SHUTDOWN_TIMEOUT", async () => {
    t = await startTestServer(sqliteBackend, { SHUTDOWN_TIMEOUT: "2s", RECONNECT_AFTER: "3s" });
    const server = t;
    const { tokens } = await register(server.api);
    const polite = await pool.connect(server.url, { token: tokens.access_token });
    const deaf = await pool.connect(server.url, { token: tokens.access_token });
    stopReading(deaf);

    const started = Date.now();
    const closing = server.server.close();
    await expectShutdownClose(polite, 3000);
    // The deaf client holds the shutdown open; meanwhile nobody new gets in.
    for (const options of [{ token: tokens.access_token }, {}, { token: tokens.access_token, path: "/ws" }]) {
      const r = await pool.refused(server.url, options);
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe("service_unavailable");
    }
    // Not a refusal by accident: still the hub's rules for another path.
    expect((await pool.refused(server.url, { path: "/elsewhere" })).status).toBe(404);
    expect(deaf.closeState).toBeUndefined();

    await closing;
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1800);
    expect(took).toBeLessThan(2000 + 1500);
    // The cut socket's close event may land a moment after close() resolves.
    await until(() => server.server.hub.stats.connections_active === 0, 1000, "no sockets left");
    // When it reads again it finds the server gone.
    (deaf.ws as any)._socket.resume();
    const closed = await deaf.closed(3000);
    expect([1001, 1006]).toContain(closed.code);
  });
});

describe("process shutdown (warren server)", () => {
  async function serverWithClients(env: Record<string, string>) {
    const proc = await startWarren({ env: { UPGRADE_RATE_LIMIT: "1000", ...env } });
    const base = `http://127.0.0.1:${proc.port}`;
    const { tokens } = await register(apiFor(base));
    return { proc, base, token: tokens.access_token as string };
  }

  async function expectRunning(proc: ServerProcess, ms: number) {
    await sleep(ms);
    expect(proc.child.exitCode).toBeNull();
    expect(proc.child.signalCode).toBeNull();
  }

  it("on SIGTERM tells every client server_shutdown, closes them with 1001 and exits 0 in time", async () => {
    const { proc, base, token } = await serverWithClients({
      SHUTDOWN_TIMEOUT: "4s",
      RECONNECT_AFTER: "2500ms",
    });
    const clients = [
      await pool.connect(base, { token }),
      await pool.connect(base, { token, via: "protocol" }),
      await pool.connect(base, { token, via: "query", path: "/ws" }),
    ];
    const started = Date.now();
    proc.child.kill("SIGTERM");
    for (const c of clients) await expectShutdownClose(c, 2500);
    expect(await proc.waitForExit(6000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("on SIGINT too, exits 0 within SHUTDOWN_TIMEOUT though a silent client and a stuck request hold it", async () => {
    const { proc, base, token } = await serverWithClients({ SHUTDOWN_TIMEOUT: "2s" });
    const polite = await pool.connect(base, { token });
    const deaf = await pool.connect(base, { token });
    stopReading(deaf);
    // An HTTP request whose body never finishes arriving.
    const stuck = net.connect(proc.port, "127.0.0.1");
    stuck.on("error", () => {});
    await new Promise<void>((resolve) => stuck.once("connect", () => resolve()));
    stuck.write(
      "POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
        'content-length: 100\r\n\r\n{"username":',
    );
    await sleep(200);
    try {
      const started = Date.now();
      proc.child.kill("SIGINT");
      await expectShutdownClose(polite, 2000);
      expect(await proc.waitForExit(8000)).toEqual({ code: 0, signal: null });
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(1800);
      expect(took, "SHUTDOWN_TIMEOUT bounds the whole shutdown, not each part of it").toBeLessThan(
        2000 + 1500,
      );
    } finally {
      stuck.destroy();
    }
  });

  for (const second of ["SIGINT", "SIGTERM"] as const) {
    it(`exits at once, non-zero, on a second signal (SIGTERM then ${second})`, async () => {
      const { proc, base, token } = await serverWithClients({ SHUTDOWN_TIMEOUT: "20s" });
      const polite = await pool.connect(base, { token });
      const deaf = await pool.connect(base, { token });
      stopReading(deaf);
      proc.child.kill("SIGTERM");
      await expectShutdownClose(polite, 2000);
      // The deaf client keeps the graceful shutdown waiting…
      await expectRunning(proc, 300);
      // …until a second signal says "now".
      const started = Date.now();
      proc.child.kill(second);
      const exit = await proc.waitForExit(3000);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(exit.signal).toBeNull();
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
    });
  }
});
