import type { DeleteMeBody, PersonalDataExport, Tokens } from "@warren/protocol";
import type { Http } from "../transport/http.js";

/** Data rights: a copy of everything the server holds about me, and deleting my account. */
export function meResource(http: Http, onTokens: (tokens: Tokens | undefined) => void) {
  return {
    export: () => http<PersonalDataExport>("GET", "/v1/me/export"),
    /**
     * Deletes the account: `{password}` for accounts with one, `{confirm: "delete my
     * account"}` for key-only accounts. The session ends with it, so tokens are dropped.
     */
    async remove(body: DeleteMeBody): Promise<void> {
      await http<void>("DELETE", "/v1/me", body);
      onTokens(undefined);
    },
  };
}
