import type {
  Ban,
  BanList,
  CreateBanBody,
  CreateTenantBody,
  JoinTenantBody,
  Static,
  Tenant,
  TenantList,
  TenantMember,
  TenantMemberList,
  TenantRole,
  UpdateTenantBody,
} from "@warren/protocol";
import type { Http } from "../transport/http.js";
import { path, withQuery } from "./path.js";

export interface TenantListQuery {
  /** true: public communities (searchable with q, paginated) instead of mine */
  discover?: boolean;
  q?: string;
  cursor?: string;
  limit?: number;
}

/** /v1/tenants: communities, their members and bans (docs/protocol.md "Communities"). */
export function tenantsResource(http: Http) {
  const one = (id: string) => path`/v1/tenants/${id}`;
  return {
    list: (query: TenantListQuery = {}) =>
      http<Static<typeof TenantList>>(
        "GET",
        withQuery("/v1/tenants", { ...query, discover: query.discover ? "1" : undefined }),
      ),
    get: (id: string) => http<Tenant>("GET", one(id)),
    create: (body: Static<typeof CreateTenantBody>) => http<Tenant>("POST", "/v1/tenants", body),
    update: (id: string, body: Static<typeof UpdateTenantBody>) => http<Tenant>("PATCH", one(id), body),
    remove: (id: string) => http<void>("DELETE", one(id)),
    /** Open communities take no body; password ones a password; any an invite_code. */
    join: (id: string, body: Static<typeof JoinTenantBody> = {}) =>
      http<Tenant>("POST", path`/v1/tenants/${id}/join`, body),
    leave: (id: string) => http<void>("POST", path`/v1/tenants/${id}/leave`),
    /** Hands ownership to another member; you become an admin. */
    transfer: (id: string, userId: string) =>
      http<Tenant>("POST", path`/v1/tenants/${id}/transfer`, { user_id: userId }),
    members: (id: string, query: { limit?: number; cursor?: string } = {}) =>
      http<Static<typeof TenantMemberList>>("GET", withQuery(path`/v1/tenants/${id}/members`, query)),
    setRole: (id: string, userId: string, role: Static<typeof TenantRole>) =>
      http<TenantMember>("PATCH", path`/v1/tenants/${id}/members/${userId}`, { role }),
    kick: (id: string, userId: string) => http<void>("DELETE", path`/v1/tenants/${id}/members/${userId}`),
    ban: (id: string, body: Static<typeof CreateBanBody>) =>
      http<Static<typeof Ban>>("POST", path`/v1/tenants/${id}/bans`, body),
    unban: (id: string, userId: string) => http<void>("DELETE", path`/v1/tenants/${id}/bans/${userId}`),
    bans: (id: string) => http<Static<typeof BanList>>("GET", path`/v1/tenants/${id}/bans`),
  };
}
