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

program.addCommand(
  addSettingFlags(
    new Command("backup")
      .description("copy the SQLite database to <file>, consistently, while the server runs")
      .argument("<file>", "where to write the copy"),
  ).action(async (file: string, options: Flags) => {
    const { runBackup } = await import("./main.js");
    await runBackup(file, settingsFromFlags(options));
  }),
);

program.addCommand(
  addSettingFlags(
    new Command("restore")
      .description("replace the SQLite database with a backup (server stopped), then migrate it")
      .argument("<file>", "a file made by `warren-server backup`")
      .option("--force", "replace an existing database"),
  ).action(async (file: string, options: Flags & { force?: boolean }) => {
    const { runRestore } = await import("./main.js");
    await runRestore(file, settingsFromFlags(options), options.force === true);
  }),
);

program.addCommand(
  addSettingFlags(
    new Command("rotate-keys").description(
      "seal every stored secret with DATA_ENCRYPTION_KEY (after moving the old key to DATA_ENCRYPTION_OLD_KEYS)",
    ),
  ).action(async (options: Flags) => {
    const { runRotateKeys } = await import("./main.js");
    await runRotateKeys(settingsFromFlags(options));
  }),
);

await program.parseAsync(process.argv);
