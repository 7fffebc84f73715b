import type { AuthResult, LoginBody } from "@warren/protocol";
import { type Client, createClient, ed25519FromSecret, WarrenError } from "@warren/sdk";
import { Command } from "commander";
import { action, finish } from "../action.js";
import { KEY_FILE_HELP, readKeyFile } from "../key-file.js";
import { CliError, emit, usageError } from "../output.js";
import { ask, askHidden, canPrompt, readStdinLine } from "../prompt.js";
import { serverUrl } from "../session.js";
import { loadCredentials, saveCredentials } from "../store/credentials.js";

interface LoginOptions {
  username?: string;
  passwordStdin?: boolean;
  key?: string;
  totp?: string;
}

export function loginCommand(): Command {
  const login = new Command("login")
    .description("sign in with a password (and a two-factor code when it is on) or an Ed25519 key file")
    .option("--server <url>", "server URL (env WARREN_SERVER; default: the server you last logged in to)")
    .option("--username <name>", "username (or email address, for password sign-in)")
    .option("--password-stdin", "read the password from the first line of standard input")
    .option("--key <file>", "sign in with an Ed25519 secret key file instead of a password")
    .option("--totp <code>", "two-factor code (or a recovery code), if the account has two-factor on")
    .addHelpText("after", KEY_FILE_HELP)
    .action(
      action<LoginOptions>(async (_, o) => {
        const previous = loadCredentials();
        const server = serverUrl(o.server, previous?.server);
        if (!server) throw usageError("which server? pass --server URL (or set WARREN_SERVER)");
        const client = createClient({ baseUrl: server });
        const result = o.key ? await withKey(client, o) : await withPassword(client, o);
        saveCredentials({
          server,
          user: { id: result.user.id, username: result.user.username },
          tokens: result.tokens,
        });
        // Signing in again on the same server: end the session being replaced.
        if (
          previous &&
          previous.server === server &&
          previous.tokens.session_id !== result.tokens.session_id
        ) {
          await createClient({ baseUrl: server, tokens: previous.tokens })
            .auth.logout()
            .catch(() => undefined);
        }
        emit(
          o.json,
          { server, user: result.user },
          () => `logged in to ${server} as ${result.user.username}`,
        );
      }),
    );
  return finish(login);
}

async function withKey(client: Client, o: LoginOptions): Promise<AuthResult> {
  if (o.passwordStdin || o.totp) throw usageError("--key signs in without a password or two-factor code");
  const secret = readKeyFile(o.key as string);
  // Without a username the server finds the account by the key's public half.
  const who = o.username ? { username: o.username } : { public_key: ed25519FromSecret(secret).publicKey };
  return client.auth.loginWithKey(who, secret);
}

async function withPassword(client: Client, o: LoginOptions): Promise<AuthResult> {
  const username = o.username ?? (await ask("Username: ", "--username"));
  if (!username) throw usageError("a username is needed");
  const password = o.passwordStdin
    ? await readStdinLine()
    : await askHidden("Password: ", "--password-stdin");
  if (!password) throw usageError("an empty password: nothing to sign in with");
  const body: LoginBody = username.includes("@") ? { email: username, password } : { username, password };
  if (o.totp) body.totp = o.totp.trim();
  try {
    return await client.auth.login(body);
  } catch (err) {
    // The server checks the password first and then asks for the second factor.
    if (!(err instanceof WarrenError) || err.code !== "totp_required" || o.totp) throw err;
    if (o.passwordStdin || !canPrompt()) {
      throw new CliError(`${err.message}: pass --totp CODE`, 1, "totp_required");
    }
    const code = await ask("Two-factor code: ", "--totp");
    return client.auth.login({ ...body, totp: code });
  }
}
