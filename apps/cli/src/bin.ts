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

await program.parseAsync(process.argv);
