import { Command } from "commander";
import { action, finish } from "../action.js";
import { emit, warn } from "../output.js";
import { openSession } from "../session.js";
import { clearCredentials, loadCredentials } from "../store/credentials.js";

export function logoutCommand(): Command {
  const logout = new Command("logout")
    .description("end this session on the server and forget the stored credentials (device keys stay)")
    .action(
      action(async (_, o) => {
        if (!loadCredentials()) {
          emit(o.json, { logged_out: false }, () => "not logged in");
          return;
        }
        const { client, credentials } = openSession({ server: o.server });
        // The local credentials go whatever the server says: a session the server
        // already ended, or a server that is gone, must not keep you "logged in".
        const revoked = await client.auth.logout().then(
          () => true,
          (err: Error) => {
            warn(`the server did not end the session (${err.message}); forgetting it here`);
            return false;
          },
        );
        clearCredentials();
        emit(
          o.json,
          { logged_out: true, server: credentials.server, session_revoked: revoked },
          () => `logged out of ${credentials.server}`,
        );
      }),
    );
  return finish(logout);
}
