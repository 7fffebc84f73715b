import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqliteBackend } from "./helpers/backends.js";
import { register, startTestServer, type TestServer } from "./helpers/server.js";

const HEADERS_MS = 1000;
const REQUEST_MS = 2000;
/** Node checks the timeouts every quarter of the shortest; allow that and a loaded machine. */
const CLOSED_WITHIN_MS = REQUEST_MS + 3000;

interface Slow {
  socket: Socket;
  /** what the server sent before closing, and when it closed */
  answer: Promise<{ text: string; ms: number }>;
  stop(): void;
}

/** A client that sends `head` at once, then one byte of `tail()` every `everyMs`, never finishing. */
function dribble(port: number, head: string, tail: () => string, everyMs: number): Slow {
  const started = performance.now();
  const socket = connect(port, "127.0.0.1");
  let text = "";
  socket.on("data", (d) => {
    text += d.toString();
  });
  socket.on("error", () => {});
  const answer = new Promise<{ text: string; ms: number }>((resolve) =>
    socket.on("close", () => resolve({ text, ms: performance.now() - started })),
  );
  socket.write(head);
  let pending = "";
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    if (pending.length === 0) pending = tail();
    socket.write(pending.slice(0, 1));
    pending = pending.slice(1);
  }, everyMs);
  return {
    socket,
    answer,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

describe("slow and endless requests", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, {
      HTTP_HEADERS_TIMEOUT: `${HEADERS_MS}ms`,
      HTTP_REQUEST_TIMEOUT: `${REQUEST_MS}ms`,
    });
  });
  afterAll(async () => t?.close());

  it("closes a few hundred slow clients within seconds while everyone else is answered at once", async () => {
    const port = Number(new URL(t.url).port);
    const { user } = await register(t.api);
    const slow: Slow[] = [];
    for (let i = 0; i < 100; i++) {
      // Headers one byte at a time (slowloris).
      slow.push(dribble(port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ", () => "a", 100));
      // Complete headers, then a declared body that dribbles.
      slow.push(
        dribble(
          port,
          "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
          () => " ",
          20,
        ),
      );
      // A chunked body that never ends: a new chunk now and then, no last chunk.
      slow.push(
        dribble(
          port,
          "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
          () => "1\r\n \r\n",
          20,
        ),
      );
    }
    try {
      // Meanwhile ordinary requests are answered promptly.
      const started = performance.now();
      for (let i = 0; i < 20; i++) {
        const res = await t.api("GET", `/v1/users/check/${user.username}`);
        expect(res.status).toBe(200);
      }
      const login = await t.api("POST", "/v1/auth/login", {
        body: { username: user.username, password: "correct horse battery" },
      });
      expect(login.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(CLOSED_WITHIN_MS);

      const answers = await Promise.all(slow.map((s) => s.answer));
      for (const [i, a] of answers.entries()) {
        expect(a.ms, `slow client ${i}`).toBeLessThan(CLOSED_WITHIN_MS);
        // Whatever it had sent, the answer (if any) is a timeout, never a success.
        if (a.text) expect(a.text, `slow client ${i}`).toMatch(/^HTTP\/1\.1 (408|400)/);
      }
      // Slow headers go at HTTP_HEADERS_TIMEOUT, slow and endless bodies at HTTP_REQUEST_TIMEOUT.
      const late = (from: number) => answers.filter((_, i) => i % 3 === from).map((a) => a.ms);
      expect(Math.max(...late(0))).toBeLessThan(HEADERS_MS + 1500);
      expect(Math.min(...late(1), ...late(2))).toBeGreaterThanOrEqual(REQUEST_MS - 100);
      expect(answers.filter((a) => a.text.startsWith("HTTP/1.1 408")).length).toBeGreaterThan(200);
    } finally {
      for (const s of slow) s.stop();
    }
  });
});
