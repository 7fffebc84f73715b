import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { type Device, dmKit } from "./dm-fixtures.js";
import { backends } from "./helpers/backends.js";
import { connectHub } from "./helpers/hub-client.js";
import { removeTempDirs, startWarren, stopAll } from "./helpers/process.js";
import { apiFor } from "./helpers/server.js";

const WAIT = 10_000;
/** Starting a process compiles the CLI with tsx: slow on a busy machine. */
const START = 60_000;

/**
 * Direct messages through real `warren server` processes: a message the
 * server acknowledged survives the process being killed at once (acknowledged means
 * committed, DESIGN.md principle 3), and no log line at the most verbose level holds a
 * sealed copy, on the way in, out, or refused.
 */
describe.each(backends())("direct messages across a crash on $name", (backend) => {
  afterAll(async () => {
    await stopAll();
    removeTempDirs();
  });

  it("delivers after a restart what was acknowledged before SIGKILL, and never logs a copy", async () => {
    const made = await backend.create();
    try {
      const env = {
        DATABASE_URL: made.databaseUrl,
        DB_PATH: made.dbPath,
        DATA_DIR: made.dataDir,
        JWT_SECRET: randomBytes(32).toString("hex"),
        LOG_LEVEL: "trace",
        LOG_CLIENT_IP: "false",
      };
      const first = await startWarren({ env, timeoutMs: START });
      const url1 = `http://127.0.0.1:${first.port}`;
      const k = dmKit(apiFor(url1));
      const [a, b] = await Promise.all([k.person(["a1"]), k.person(["b1"])]);
      await k.friends(a, b);
      const a1 = a.devices[0] as Device;

      const viaHub = k.envelope(a, a1, b);
      const viaRest = k.envelope(a, a1, b);
      const refused = [
        k.envelope(a, a1, b, { signing: "bad" }),
        k.envelope(a, a1, b, { copies: [] as never[] }),
        k.envelope(a, a1, b, { signing: "none" }),
      ];
      for (const body of refused) expect((await k.post(a, body)).status).toBeGreaterThanOrEqual(400);
      const rest = await k.post(a, viaRest);
      expect(rest.status).toBe(201);
      const ac = await connectHub(url1, a.token, { device: "a1" });
      const reply = await ac.request({ type: "dm.send", ...viaHub }, WAIT);
      expect(reply.result.duplicate).toBe(false);
      // Acknowledged: kill the process before it can do anything more.
      await first.kill();
      ac.ws.terminate();

      const second = await startWarren({ env, timeoutMs: START });
      const bc = await connectHub(`http://127.0.0.1:${second.port}`, b.token, { device: "b1" });
      const got = [await bc.next("dm", WAIT), await bc.next("dm", WAIT)];
      expect(got.map((f) => f.id)).toEqual([rest.body.id, reply.result.id]);
      expect(got[1].copy).toEqual(viaHub.copies[0]);
      bc.ws.terminate();
      await second.kill();

      const logs = first.output() + second.output();
      expect(logs).toContain("incoming request");
      for (const body of [viaHub, viaRest, ...refused]) {
        for (const copy of body.copies) {
          expect(logs).not.toContain(copy.ciphertext);
          expect(logs).not.toContain(copy.enc);
        }
      }
      expect(logs).not.toContain('"ciphertext"');
    } finally {
      await made.drop();
    }
  }, 240_000);
});
