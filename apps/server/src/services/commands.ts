import { AppError } from "../errors.js";
import { mayRunCommand } from "../policy/policy.js";

export interface CommandContext {
  userId: string;
  username: string;
  isAdmin: boolean;
}

export type CommandHandler = (params: unknown, ctx: CommandContext) => unknown | Promise<unknown>;

export interface CommandOptions {
  description?: string;
  /** only server admins (ADMIN_USERS, the first account) may run it */
  admin?: boolean;
}

/**
 * Server commands: {"type":"command","name","params"}. Operators who embed
 * the server add their own with `commands.register(name, handler, options)`.
 */
export function createCommands() {
  const registry = new Map<string, { handler: CommandHandler; description: string; admin: boolean }>();

  const commands = {
    register(name: string, handler: CommandHandler, options: CommandOptions = {}): void {
      if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(name))
        throw new Error(`command name ${JSON.stringify(name)} is not valid`);
      if (registry.has(name)) throw new Error(`command ${name} is already registered`);
      registry.set(name, { handler, description: options.description ?? "", admin: options.admin ?? false });
    },
    unregister(name: string): boolean {
      return registry.delete(name);
    },
    /** The commands this user may run. */
    list(ctx: CommandContext): { name: string; description: string; admin: boolean }[] {
      return [...registry.entries()]
        .filter(([, c]) => mayRunCommand(c, ctx))
        .map(([name, c]) => ({ name, description: c.description, admin: c.admin }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    async run(name: string, params: unknown, ctx: CommandContext): Promise<unknown> {
      const command = registry.get(name);
      if (!command) throw new AppError("unknown_command", `No command named ${name}`);
      if (!mayRunCommand(command, ctx)) throw new AppError("forbidden", `${name} is for administrators`);
      return command.handler(params, ctx);
    },
  };
  return commands;
}

export type Commands = ReturnType<typeof createCommands>;
