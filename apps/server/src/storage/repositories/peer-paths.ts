import type { Kysely } from "kysely";
import type { Schema } from "../schema.js";

/** The latest path report of each peer (storage/migrations/0006-peer-paths.ts). */
export function createPeerPathsRepository(db: Kysely<Schema>) {
  return {
    async put(peerId: string, networkId: string, report: string, at: string): Promise<void> {
      await db
        .insertInto("peer_paths")
        .values({ peer_id: peerId, network_id: networkId, report, updated_at: at })
        .onConflict((oc) => oc.column("peer_id").doUpdateSet({ report, updated_at: at }))
        .execute();
    },
    async ofNetwork(networkId: string): Promise<{ peer_id: string; report: string; updated_at: string }[]> {
      return db
        .selectFrom("peer_paths")
        .select(["peer_id", "report", "updated_at"])
        .where("network_id", "=", networkId)
        .execute();
    },
  };
}
