import type { Command } from "commander";
import { printError } from "./output.js";

/** Options every command of the client side takes (added by `finish`). */
export interface Common {
  json?: boolean;
  server?: string;
}

/**
 * A commander action that gets its positional arguments as strings (a missing
 * optional one is left out, a variadic one spread) and its options,
 * and turns any error into a printed message and a non-zero exit code instead of a
 * stack trace. process.exitCode (not process.exit) so piped stdout is never cut short.
 */
export function action<O extends object = object>(
  fn: (args: string[], options: O & Common, command: Command) => Promise<void>,
) {
  return async (...raw: unknown[]): Promise<void> => {
    const command = raw[raw.length - 1] as Command;
    const options = command.opts() as O & Common;
    // A variadic argument arrives as an array: its values join the list in place.
    const args = raw
      .slice(0, -2)
      .flatMap((a) => (Array.isArray(a) ? a : a === undefined ? [] : [a])) as string[];
    try {
      await fn(args, options, command);
    } catch (err) {
      process.exitCode = printError(err, options.json === true);
    }
  };
}

const SERVER_HELP = "server URL (default: the one you logged in to; env WARREN_SERVER)";

/**
 * Finishes a command tree: every leaf gets --json and --server, and every command
 * exits 2 on a usage error (unknown option, missing argument, no subcommand) where
 * commander would exit 1, so scripts can tell a wrong command line from a failure.
 */
export function finish(command: Command): Command {
  command.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
  if (command.commands.length === 0) {
    const has = (flag: string) => command.options.some((o) => o.long === flag);
    if (!has("--json")) command.option("--json", "print JSON (for scripts)");
    if (!has("--server")) command.option("--server <url>", SERVER_HELP);
  }
  for (const sub of command.commands) finish(sub);
  return command;
}
