import { runMigrate } from "@warren/server";
import { Command } from "commander";
import { addSettingFlags, settingsFromFlags } from "./server-flags.js";

export function migrateCommand(): Command {
  return addSettingFlags(
    new Command("migrate").description("apply pending database migrations and exit"),
  ).action(async (options: Record<string, string | undefined>) => {
    await runMigrate(settingsFromFlags(options));
  });
}
