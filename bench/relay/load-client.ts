/** The orchestrator's side of the forked load processes (bench/relay/load.ts). */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { Command, Reply, Snapshot } from "./messages.js";
import { nodeCommand, ROOT } from "./servers.js";

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** One forked load process and its request/reply channel. */
export class Load {
  private rid = 0;
  private readonly pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  private constructor(private readonly child: ChildProcess) {
    child.on("message", (r: Reply) => {
      const p = this.pending.get(r.re);
      if (!p) return;
      this.pending.delete(r.re);
      if (r.error) p.reject(new Error(r.error));
      else p.resolve(r);
    });
    child.on("exit", (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`load process exited with ${code}`));
      this.pending.clear();
    });
  }

  static start(): Load {
    const child = spawn(...nodeCommand("load", ["--import", "tsx", path.join(ROOT, "bench/relay/load.ts")]), {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    return new Load(child);
  }

  call(c: DistributiveOmit<Command, "rid">, timeoutMs: number): Promise<Reply> {
    const rid = ++this.rid;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new Error(`load process: no answer to ${c.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(rid, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...c, rid } as Command);
    });
  }

  async snapshot(): Promise<Snapshot> {
    const r = await this.call({ cmd: "snapshot" }, 10_000);
    if (r.kind !== "snapshot") throw new Error("expected a snapshot");
    return r.snapshot;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    await this.call({ cmd: "close" }, 15_000).catch(() => this.child.kill("SIGKILL"));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Sends one command to every load process and checks each reply's kind. */
export async function all<T extends Reply["kind"]>(
  loads: Load[],
  c: (i: number) => DistributiveOmit<Command, "rid">,
  kind: T,
  timeoutMs: number,
): Promise<Extract<Reply, { kind: T }>[]> {
  const replies = await Promise.all(loads.map((l, i) => l.call(c(i), timeoutMs)));
  for (const r of replies) if (r.kind !== kind) throw new Error(`expected ${kind}, got ${r.kind}`);
  return replies as Extract<Reply, { kind: T }>[];
}
