import type { Clock } from "./clock.js";
import type { Services } from "./services/index.js";

export interface MaintenanceOptions {
  services: Pick<Services, "rooms" | "analytics" | "directMessages">;
  /** CLEANUP_INTERVAL */
  intervalMs: number;
  clock: Clock;
  log: { warn(obj: object, msg: string): void };
}

/**
 * The server's periodic chores, every CLEANUP_INTERVAL: rooms idle for ROOM_EXPIRY_DAYS
 * go, analytics rows past ANALYTICS_RETENTION_DAYS go, and direct messages pending past
 * MESSAGE_TTL_DAYS expire. A failed chore is logged and tried again next time.
 * start.ts starts it after the hub and stops it at shutdown.
 */
export function startMaintenance(o: MaintenanceOptions) {
  const { services, clock, log } = o;
  const chore = (name: string, work: () => Promise<unknown>) =>
    work().then(
      () => undefined,
      (err) => log.warn({ err }, `${name} failed`),
    );
  const run = async (): Promise<void> => {
    const now = clock.now();
    await Promise.all([
      chore("room cleanup", () => services.rooms.cleanup()),
      chore("analytics pruning", () => services.analytics.prune(now)),
      chore("direct message expiry", () => services.directMessages.expire(now)),
    ]);
  };
  const timer = setInterval(() => void run(), o.intervalMs);
  timer.unref();
  return {
    /** Runs every chore now (what the timer does); resolves when they are done. */
    run,
    stop(): void {
      clearInterval(timer);
    },
  };
}

export type Maintenance = ReturnType<typeof startMaintenance>;
