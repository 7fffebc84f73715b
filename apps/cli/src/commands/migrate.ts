import { Command } from "commander";
import { addSettingFlags, settingsFromFlags } from "./server-flags.js";

export function migrateCommand(): Command {
  return addSettingFlags(
    new Command("migrate").description("apply pending database migrations and exit"),
  ).action(async (options: Record<string, string | undefined>) => {
    // Loaded here, not at the top: only this command needs the server's code.
    const { runMigrate } = await import("@warren/server");
    await runMigrate(settingsFromFlags(options));
  });
}
