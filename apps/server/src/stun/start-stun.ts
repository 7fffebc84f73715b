import type { Config } from "../config.js";
import { createStunServer, type StunServer } from "./stun-server.js";

/** The STUN endpoint as configured (STUN_PORT, STUN_ALT_PORT), or undefined when it is off. */
export async function startStun(
  config: Readonly<Config>,
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void },
): Promise<StunServer | undefined> {
  if (config.nat.stunPort === undefined) return undefined;
  const stun = createStunServer({
    host: config.host,
    port: config.nat.stunPort,
    altPort: config.nat.stunAltPort,
    ratePerSecond: config.nat.stunRate,
    log,
  });
  const ports = await stun.start();
  if (ports.length > 0) log.info({ ports }, "STUN answering");
  return stun;
}
