import type { Bus } from "../bus/bus.js";
import type { Services } from "../services/index.js";
import type { Instances, Snapshot } from "../state/instances.js";

export interface LivenessOptions {
  services: Pick<Services, "presence" | "peers">;
  bus: Bus;
  /** this cluster's instance registry (shared state) */
  instances: Instances;
  /** INSTANCE_TTL: beats go every third of it */
  instanceTtlMs: number;
  /** users a dead instance left offline start their room grace period here */
  offline(userId: string): void;
  /** this instance's sockets and rooms, for restoring its share of the state */
  snapshot(): Snapshot;
  /** after the share is restored: catch sockets up on what they missed */
  restored(downSinceMs: number): Promise<void>;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/**
 * The instance's part in a cluster: it beats, so the others know it lives; it
 * reaps instances that stopped beating, telling their users' contacts and networks that
 * they went offline; and when Redis comes back it rewrites its share of the shared
 * state (Redis may have restarted empty) and catches its sockets up.
 * On one instance every step is a no-op.
 */
export function startLiveness(o: LivenessOptions): () => void {
  const { services } = o;
  const instances = o.instances;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      // Not registered: first beat, or reaped while it stalled, or Redis restarted.
      if (!(await instances.beat())) await instances.restore(o.snapshot());
      const reaped = await instances.reap();
      if (reaped.users.length + reaped.devices.length > 0) {
        o.log.info({ users: reaped.users.length, devices: reaped.devices.length }, "reaped a dead instance");
      }
      for (const user of reaped.users) {
        await services.presence.wentOffline(user);
        o.offline(user);
      }
      for (const { user, device } of reaped.devices) await services.peers.wentOffline(user, device);
    } catch (err) {
      // Redis away: the next beat tries again.
      o.log.warn({ err }, "instance heartbeat failed");
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), Math.max(1000, Math.floor(o.instanceTtlMs / 3)));
  timer.unref();
  void tick();

  o.bus.onRestored((downSinceMs) => {
    void (async () => {
      await instances.restore(o.snapshot());
      await o.restored(downSinceMs);
    })().catch((err) => o.log.warn({ err }, "restoring after a Redis outage failed"));
  });
  return () => clearInterval(timer);
}
