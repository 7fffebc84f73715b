import type {
  CreateNetworkBody,
  CreateReservationBody,
  JoinStatus,
  Network,
  NetworkBan,
  NetworkBanBody,
  NetworkBanList,
  NetworkList,
  NetworkMember,
  NetworkMemberList,
  NetworkPeer,
  PeerListResponse,
  Reservation,
  ReservationList,
  Static,
  UpdateNetworkBody,
} from "@warren/protocol";
import type { Http } from "../transport/http.js";
import { path } from "./path.js";

/** Networks (virtual LANs) of a community: members, peers and addresses (docs/protocol.md "Networks"). */
export function networksResource(http: Http) {
  const one = (id: string) => path`/v1/networks/${id}`;
  const sub = (id: string, rest: string) => `${one(id)}/${rest}`;
  const toUser = (userId: string) => ({ user_id: userId });
  return {
    /** The community's networks the caller may see. */
    list: (tenantId: string) =>
      http<Static<typeof NetworkList>>("GET", path`/v1/tenants/${tenantId}/networks`),
    get: (id: string) => http<Network>("GET", one(id)),
    create: (tenantId: string, body: CreateNetworkBody) =>
      http<Network>("POST", path`/v1/tenants/${tenantId}/networks`, body),
    update: (id: string, body: UpdateNetworkBody) => http<Network>("PATCH", one(id), body),
    remove: (id: string) => http<void>("DELETE", one(id)),
    /** Active at once (open) or pending (approval); invite-only networks answer forbidden. */
    join: (id: string) => http<JoinStatus>("POST", sub(id, "join")),
    leave: (id: string) => http<void>("POST", sub(id, "leave")),
    members: (id: string) => http<Static<typeof NetworkMemberList>>("GET", sub(id, "members")),
    approve: (id: string, userId: string) => http<NetworkMember>("POST", sub(id, "approve"), toUser(userId)),
    deny: (id: string, userId: string) => http<void>("POST", sub(id, "deny"), toUser(userId)),
    kick: (id: string, userId: string) => http<void>("POST", sub(id, "kick"), toUser(userId)),
    ban: (id: string, body: Static<typeof NetworkBanBody>) => http<NetworkBan>("POST", sub(id, "ban"), body),
    unban: (id: string, userId: string) => http<void>("DELETE", path`/v1/networks/${id}/bans/${userId}`),
    bans: (id: string) => http<Static<typeof NetworkBanList>>("GET", sub(id, "bans")),
    /** Every device in the network, in address order. */
    peers: (id: string) => http<Static<typeof PeerListResponse>>("GET", sub(id, "peers")),
    /**
     * Adds one of my devices; it gets the lowest (or a random) free address, or
     * `address` when an admin pins one.
     */
    addPeer: (id: string, deviceId: string, options: { address?: string } = {}) =>
      http<NetworkPeer>("POST", sub(id, "peers"), { device_id: deviceId, ...options }),
    reservations: (id: string) => http<Static<typeof ReservationList>>("GET", sub(id, "reservations")),
    reserve: (id: string, body: Static<typeof CreateReservationBody>) =>
      http<Reservation>("POST", sub(id, "reservations"), body),
    unreserve: (id: string, address: string) =>
      http<void>("DELETE", path`/v1/networks/${id}/reservations/${address}`),
  };
}
