// The settings list only, not the whole server: `warren-server --help` builds these flags
// without loading Fastify and the storage layer.

import type { Command } from "commander";
import { flagOf, type RawSettings, SETTINGS } from "./config.js";

/** Every server setting as a flag: PORT → --port <value>. Flags win over the environment. */
export function addSettingFlags(command: Command): Command {
  for (const s of SETTINGS) command.option(`${flagOf(s.env)} <value>`, `${s.doc} (env ${s.env})`);
  return command;
}

export function settingsFromFlags(options: Record<string, string | undefined>): RawSettings {
  const raw: RawSettings = {};
  for (const s of SETTINGS) {
    const key = s.env.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = options[key];
    if (value !== undefined) raw[s.env] = value;
  }
  return raw;
}
