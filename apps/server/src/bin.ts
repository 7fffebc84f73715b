import { Command } from "commander";
import { addSettingFlags, settingsFromFlags } from "./server-flags.js";
import { SERVER_VERSION } from "./version.js";

/**
 * `warren-server`: runs the server (the default command) and its maintenance commands.
 * Each action loads the server's code only when it runs, so `--help` stays fast.
 */
type Flags = Record<string, string | undefined>;

const program = new Command()
  .name("warren-server")
  .description("the warren server: REST API, WebSocket hub, metrics")
  .version(SERVER_VERSION);

program.addCommand(
  addSettingFlags(new Command("serve").description("run the server (the default command)")).action(
    async (options: Flags) => {
      const { runServer } = await import("./main.js");
      await runServer(settingsFromFlags(options));
    },
  ),
  { isDefault: true },
);

program.addCommand(
  addSettingFlags(new Command("migrate").description("apply pending database migrations and exit")).action(
    async (options: Flags) => {
      const { runMigrate } = await import("./main.js");
      await runMigrate(settingsFromFlags(options));
    },
  ),
);

await program.parseAsync(process.argv);
