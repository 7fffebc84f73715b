#!/usr/bin/env -S node --import tsx
import { Command } from "commander";
import { configCommand } from "./commands/config.js";
import { devicesCommand } from "./commands/devices.js";
import { downCommand } from "./commands/down.js";
import { invitesCommand } from "./commands/invites.js";
import { joinCommand } from "./commands/join.js";
import { loginCommand } from "./commands/login.js";
import { logoutCommand } from "./commands/logout.js";
import { membersCommand } from "./commands/members.js";
import { migrateCommand } from "./commands/migrate.js";
import { networksCommand } from "./commands/networks.js";
import { serverCommand } from "./commands/server.js";
import { statusCommand } from "./commands/status.js";
import { tenantsCommand } from "./commands/tenants.js";
import { upCommand } from "./commands/up.js";
import { whoamiCommand } from "./commands/whoami.js";

const program = new Command()
  .name("warren")
  .description("warren: virtual LANs over WireGuard and a real-time hub")
  .version("0.1.0");

program.addCommand(serverCommand());
program.addCommand(migrateCommand());
program.addCommand(loginCommand());
program.addCommand(logoutCommand());
program.addCommand(whoamiCommand());
program.addCommand(tenantsCommand());
program.addCommand(membersCommand());
program.addCommand(invitesCommand());
program.addCommand(networksCommand());
program.addCommand(devicesCommand());
program.addCommand(joinCommand());
program.addCommand(configCommand());
program.addCommand(upCommand());
program.addCommand(downCommand());
program.addCommand(statusCommand());

await program.parseAsync(process.argv);
