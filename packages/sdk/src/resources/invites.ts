import type { AcceptedInvite, CreateInviteBody, Invite, InviteList, Static } from "@warren/protocol";
import type { Http } from "../transport/http.js";
import { path } from "./path.js";

/** Invite codes of a community; accepting one joins its community (and network, if it names one). */
export function invitesResource(http: Http) {
  return {
    create: (tenantId: string, body: Static<typeof CreateInviteBody> = {}) =>
      http<Static<typeof Invite>>("POST", path`/v1/tenants/${tenantId}/invites`, body),
    list: (tenantId: string) => http<Static<typeof InviteList>>("GET", path`/v1/tenants/${tenantId}/invites`),
    revoke: (tenantId: string, inviteId: string) =>
      http<void>("DELETE", path`/v1/tenants/${tenantId}/invites/${inviteId}`),
    accept: (code: string) => http<Static<typeof AcceptedInvite>>("POST", "/v1/invites/accept", { code }),
  };
}
