import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { type Open, useDatabase } from "./fixtures.js";

/** The peer paths repository on every backend. */
export function peerPathsContract(name: string, open: Open) {
  describe(`peer paths repository on ${name}`, () => {
    const { repos, fixtures } = useDatabase(open);

    const setup = async () => {
      const u = await fixtures().user();
      const t = await fixtures().tenant(u.id);
      const n = await fixtures().network(t.id);
      const d1 = await fixtures().device(u.id);
      const d2 = await fixtures().device(u.id);
      const p1 = await fixtures().peer(n.id, d1.id, u.id, 2);
      const p2 = await fixtures().peer(n.id, d2.id, u.id, 3);
      return { u, n, p1, p2 };
    };

    it("keeps the latest report of each peer, per network", async () => {
      const { n, p1, p2 } = await setup();
      expect(await repos().peerPaths.ofNetwork(n.id)).toEqual([]);
      await repos().peerPaths.put(p1.id, n.id, '{"v":1}', "2030-01-01T00:00:00.000Z");
      await repos().peerPaths.put(p2.id, n.id, '{"v":2}', "2030-01-01T00:00:01.000Z");
      await repos().peerPaths.put(p1.id, n.id, '{"v":3}', "2030-01-02T00:00:00.000Z");
      const rows = await repos().peerPaths.ofNetwork(n.id);
      expect(rows.sort((a, b) => a.peer_id.localeCompare(b.peer_id))).toEqual(
        [
          { peer_id: p1.id, report: '{"v":3}', updated_at: "2030-01-02T00:00:00.000Z" },
          { peer_id: p2.id, report: '{"v":2}', updated_at: "2030-01-01T00:00:01.000Z" },
        ].sort((a, b) => a.peer_id.localeCompare(b.peer_id)),
      );
      expect(await repos().peerPaths.ofNetwork(uuidv7())).toEqual([]);
    });

    it("refuses a report of an unknown peer, and drops a peer's report with the peer (cascade)", async () => {
      const { n, p1, p2 } = await setup();
      await expect(repos().peerPaths.put(uuidv7(), n.id, "{}", "2030-01-01T00:00:00.000Z")).rejects.toThrow();
      await repos().peerPaths.put(p1.id, n.id, "{}", "2030-01-01T00:00:00.000Z");
      await repos().peerPaths.put(p2.id, n.id, "{}", "2030-01-01T00:00:00.000Z");
      expect(await repos().peers.delete(p1.id)).toBe(true);
      expect((await repos().peerPaths.ofNetwork(n.id)).map((r) => r.peer_id)).toEqual([p2.id]);
    });
  });
}
