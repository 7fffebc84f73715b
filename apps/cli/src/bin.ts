#!/usr/bin/env -S node --import tsx
import { Command } from "commander";
import { migrateCommand } from "./commands/migrate.js";
import { serverCommand } from "./commands/server.js";

const program = new Command()
  .name("warren")
  .description("warren: virtual LANs over WireGuard and a real-time hub")
  .version("0.1.0");

program.addCommand(serverCommand());
program.addCommand(migrateCommand());
// `warren server` (what `npm start` runs) and `warren migrate` skip loading the client
// commands and the SDK: about 2 s of CPU at every server start.
const first = process.argv[2];
if (first !== "server" && first !== "migrate") {
  const { clientCommands } = await import("./client-commands.js");
  for (const command of clientCommands()) program.addCommand(command);
}

await program.parseAsync(process.argv);
