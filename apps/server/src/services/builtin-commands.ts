import { PROTOCOL_VERSION } from "@warren/protocol";
import type { Commands } from "./commands.js";
import type { Presence } from "./presence.js";

/**
 * Built-in commands: ping, echo, server_info, user_count, list_commands. The names are
 * kept for compatibility with existing clients of the command protocol.
 */
export function registerBuiltinCommands(commands: Commands, deps: { presence: Presence; startedAt: number }) {
  commands.register("ping", () => "pong", { description: "Answers pong" });
  commands.register("echo", (params) => params ?? null, { description: "Answers with its params" });
  commands.register(
    "server_info",
    () => ({
      name: "warren",
      version: "0.1.0",
      protocol_version: PROTOCOL_VERSION,
      uptime_seconds: Math.floor((Date.now() - deps.startedAt) / 1000),
      server_time: new Date().toISOString(),
    }),
    { description: "Server name, version and uptime" },
  );
  commands.register("user_count", async () => ({ online: await deps.presence.onlineCount() }), {
    description: "How many users are online",
  });
  commands.register("list_commands", (_params, ctx) => ({ commands: commands.list(ctx) }), {
    description: "The commands you may run",
  });
}
