import { DeviceParams, PeerPathReport, PeerPathsBody } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { errors, type RouteDeps, typed } from "../shared.js";

/** The path a device uses to each other peer of its network (direct or relay, and why). */
export async function peerPathRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["peers"] };
  // A peer's id (a UUID).
  const IdParams = DeviceParams;

  r.put(
    "/peers/:id/paths",
    {
      schema: {
        ...common,
        summary:
          "Report the path my device uses to each other peer (direct or relay, and why); members hear peer.path",
        params: IdParams,
        body: PeerPathsBody,
        response: { 200: PeerPathReport, ...errors(400, 401, 404) },
      },
    },
    async (request) => services.peerPaths.report(request.user.userId, request.params.id, request.body),
  );
}
