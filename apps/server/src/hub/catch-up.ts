import { version1Text } from "@warren/protocol";
import type { Services } from "../services/index.js";
import type { Connection } from "./connection.js";
import type { DmDelivery } from "./dm-delivery.js";
import type { LocalSockets } from "./local-sockets.js";
import type { Outbox } from "./outbox.js";

export interface CatchUpDeps {
  services: Pick<Services, "chat">;
  local: LocalSockets;
  outbox: Outbox;
  dmDelivery: DmDelivery;
  connections: Iterable<Connection>;
}

/** Chat messages per topic sent after an outage; more wait in the history (REST). */
const CHAT_LIMIT = 1000;

/**
 * After a Redis outage, from the database: chat messages posted since it began
 * (a few seconds more, for clocks and races) to the sockets on each community and network
 * topic, and each device's pending direct messages. Events published by other instances
 * meanwhile never reached this one; the database has what was acknowledged. Copies a
 * socket already had may come twice; clients keep messages by id.
 */
export async function catchUp(deps: CatchUpDeps, downSinceMs: number): Promise<void> {
  const { services, local, outbox, dmDelivery } = deps;
  for (const topic of local.topics()) {
    if (!topic.startsWith("tenant:") && !topic.startsWith("network:")) continue;
    const frames = await services.chat.missed(topic, downSinceMs - 5000, CHAT_LIMIT);
    for (const frame of frames) {
      const v1 = version1Text(frame);
      for (const conn of local.socketsOf(topic) ?? [])
        outbox.send(conn, conn.identity.protocol === 1 ? v1 : frame, "chat.message");
    }
  }
  for (const conn of deps.connections) await dmDelivery.fetch(conn);
}
