import type { Command } from "commander";
import { configCommand } from "./commands/config.js";
import { devicesCommand } from "./commands/devices.js";
import { downCommand } from "./commands/down.js";
import { invitesCommand } from "./commands/invites.js";
import { joinCommand } from "./commands/join.js";
import { loginCommand } from "./commands/login.js";
import { logoutCommand } from "./commands/logout.js";
import { membersCommand } from "./commands/members.js";
import { networksCommand } from "./commands/networks.js";
import { statusCommand } from "./commands/status.js";
import { tenantsCommand } from "./commands/tenants.js";
import { upCommand } from "./commands/up.js";
import { whoamiCommand } from "./commands/whoami.js";

/** Every command that talks to a server as a client (everything but `server` and `migrate`). */
export function clientCommands(): Command[] {
  return [
    loginCommand(),
    logoutCommand(),
    whoamiCommand(),
    tenantsCommand(),
    membersCommand(),
    invitesCommand(),
    networksCommand(),
    devicesCommand(),
    joinCommand(),
    configCommand(),
    upCommand(),
    downCommand(),
    statusCommand(),
  ];
}
