import { Command } from "commander";
import { addSettingFlags, settingsFromFlags } from "./server-flags.js";

export function serverCommand(): Command {
  return addSettingFlags(
    new Command("server").description("run the warren server (what `npm start` runs)"),
  ).action(async (options: Record<string, string | undefined>) => {
    // Loaded here, not at the top: only this command needs the server's code.
    const { runServer } = await import("@warren/server");
    await runServer(settingsFromFlags(options));
  });
}
