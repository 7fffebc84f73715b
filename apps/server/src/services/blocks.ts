import type { BlockedUser } from "@warren/protocol";
import { AppError } from "../errors.js";
import type { Repositories } from "../storage/repositories/index.js";
import type { Audit } from "./audit.js";
import { nowIso, type RequestContext } from "./context.js";

/**
 * Blocking: a blocked user, and the blocker too, get peer_unavailable when
 * they try to write to the other, exactly like a stranger. Nobody is told of a block.
 */
export function createBlocks(repos: Pick<Repositories, "blocks" | "users">, audit: Audit) {
  return {
    async block(
      userId: string,
      targetId: string,
      ctx: RequestContext,
    ): Promise<BlockedUser & { created: boolean }> {
      if (targetId === userId) {
        throw new AppError("invalid_request", "You cannot block yourself", {
          details: { field: "params.id" },
        });
      }
      const target = await repos.users.byId(targetId);
      if (!target) throw new AppError("not_found", "No such user");
      const { created, created_at } = await repos.blocks.add(userId, targetId, nowIso());
      if (created) await audit.record("user.block", { actorId: userId, target: targetId }, ctx);
      return { user_id: targetId, username: target.username, created_at, created };
    },

    async unblock(userId: string, targetId: string, ctx: RequestContext): Promise<void> {
      if (!(await repos.blocks.remove(userId, targetId))) {
        throw new AppError("not_found", "You have not blocked this user");
      }
      await audit.record("user.unblock", { actorId: userId, target: targetId }, ctx);
    },

    list: (userId: string): Promise<BlockedUser[]> => repos.blocks.list(userId),
  };
}

export type Blocks = ReturnType<typeof createBlocks>;
