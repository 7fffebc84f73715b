import type { Bus } from "../bus/bus.js";
import { AppError } from "../errors.js";
import type { Database } from "../storage/create-database.js";

/**
 * Whether this instance can serve: the database answers, and (with Redis) the bus
 * reaches the other instances. Throws service_unavailable saying which one does not.
 */
export function createReadiness(database: Pick<Database, "ping" | "dialect">, bus: Pick<Bus, "healthy">) {
  return {
    async check(): Promise<{ database: Database["dialect"] }> {
      try {
        await database.ping();
      } catch (err) {
        throw new AppError("service_unavailable", "The database does not answer", { cause: err });
      }
      // With several instances, one that cannot reach Redis cannot reach the others' users.
      if (!bus.healthy()) {
        throw new AppError("service_unavailable", "Redis does not answer: other instances are out of reach");
      }
      return { database: database.dialect };
    },
  };
}

export type Readiness = ReturnType<typeof createReadiness>;
