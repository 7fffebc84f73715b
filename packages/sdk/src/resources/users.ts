import type { PublicKeyRecord, User } from "@warren/protocol";
import type { Http } from "../transport/http.js";
import { path } from "./path.js";

/** Public profiles: a user's name and public keys by id, and whether a username is free. */
export function usersResource(http: Http) {
  return {
    get: (id: string) => http<User>("GET", path`/v1/users/${id}`),
    keys: (id: string) => http<{ keys: PublicKeyRecord[] }>("GET", path`/v1/users/${id}/keys`),
    /** No sign-in needed. */
    check: (username: string) =>
      http<{ username: string; available: boolean }>("GET", path`/v1/users/check/${username}`),
  };
}
