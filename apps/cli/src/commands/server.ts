import { runServer } from "@warren/server";
import { Command } from "commander";
import { addSettingFlags, settingsFromFlags } from "./server-flags.js";

export function serverCommand(): Command {
  return addSettingFlags(
    new Command("server").description("run the warren server (what `npm start` runs)"),
  ).action(async (options: Record<string, string | undefined>) => {
    await runServer(settingsFromFlags(options));
  });
}
