#!/usr/bin/env -S node --import tsx
import { Command } from "commander";
import { CLI_VERSION } from "./version.js";

// The client only: running the server is `warren-server`, a separate package, so that
// installing this command pulls in no database driver, Redis client or HTTP framework.
const program = new Command()
  .name("warren")
  .description("warren: virtual LANs over WireGuard and a real-time hub")
  .version(CLI_VERSION);

// `--version` answers without loading the commands and the SDK.
const first = process.argv[2];
if (first !== "--version" && first !== "-V") {
  const { clientCommands } = await import("./client-commands.js");
  for (const command of clientCommands()) program.addCommand(command);
}

await program.parseAsync(process.argv);
