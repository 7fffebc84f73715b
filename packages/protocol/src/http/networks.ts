import { type Static, Type } from "typebox";
import { UUID_PATTERN } from "../ids.js";
import { Id, NAME_PATTERN, Timestamp } from "./common.js";
import { PeerPathReport } from "./peer-paths.js";
import { TenantRole } from "./tenants.js";

/** Networks (virtual LANs) of a community, their members, peers and addresses. */

const IPV4_PATTERN =
  "^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$";

export const Ipv4Address = Type.String({ pattern: IPV4_PATTERN, description: "dotted IPv4, e.g. 10.1.0.2" });

export const NetworkVisibility = Type.Union([Type.Literal("public"), Type.Literal("private")], {
  description:
    "public: listed to every community member who meets required_role; private: to its members and admins",
});
export const JoinPolicy = Type.Union(
  [Type.Literal("open"), Type.Literal("invite"), Type.Literal("approval")],
  {
    description:
      "open: join at once; approval: a moderator approves; invite: only through an invite naming the network",
  },
);
export const Allocation = Type.Union([Type.Literal("sequential"), Type.Literal("random")], {
  description: "how a joining device gets its address: the lowest free host, or a random free host",
});

const NetworkName = Type.String({ minLength: 1, maxLength: 64, pattern: NAME_PATTERN });
const NetworkDescription = Type.String({ maxLength: 500 });
const CidrText = Type.String({
  minLength: 1,
  maxLength: 32,
  description:
    "IPv4 range, /8 to /30, inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10; host bits are cleared",
});

export const Network = Type.Object({
  id: Id,
  tenant_id: Id,
  name: Type.String(),
  description: Type.String(),
  cidr: Type.String({ description: 'normalised, e.g. "10.1.0.0/24"' }),
  visibility: NetworkVisibility,
  join_policy: JoinPolicy,
  required_role: TenantRole,
  allocation: Allocation,
  created_at: Timestamp,
  updated_at: Timestamp,
  my_status: Type.Union([Type.Literal("active"), Type.Literal("pending"), Type.Null()], {
    description: "the caller's membership; null: not a member",
  }),
  member_count: Type.Integer({ minimum: 0, description: "active members" }),
});
export type Network = Static<typeof Network>;

export const NetworkList = Type.Object({ networks: Type.Array(Network, { description: "oldest first" }) });

export const CreateNetworkBody = Type.Object({
  name: NetworkName,
  description: Type.Optional(NetworkDescription),
  cidr: CidrText,
  visibility: Type.Optional(NetworkVisibility),
  join_policy: Type.Optional(JoinPolicy),
  required_role: Type.Optional(TenantRole),
  allocation: Type.Optional(Allocation),
});
export type CreateNetworkBody = Static<typeof CreateNetworkBody>;

export const UpdateNetworkBody = Type.Object(
  {
    name: Type.Optional(NetworkName),
    description: Type.Optional(NetworkDescription),
    cidr: Type.Optional(CidrText),
    visibility: Type.Optional(NetworkVisibility),
    join_policy: Type.Optional(JoinPolicy),
    required_role: Type.Optional(TenantRole),
    allocation: Type.Optional(Allocation),
  },
  { minProperties: 1 },
);
export type UpdateNetworkBody = Static<typeof UpdateNetworkBody>;

export const TenantNetworksParams = Type.Object({ tenant_id: Type.String({ pattern: UUID_PATTERN }) });
export const NetworkParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
export const NetworkUserParams = Type.Object({
  id: Type.String({ pattern: UUID_PATTERN }),
  user_id: Type.String({ pattern: UUID_PATTERN }),
});
export const NetworkAddressParams = Type.Object({
  id: Type.String({ pattern: UUID_PATTERN }),
  address: Ipv4Address,
});
export const PeerParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });

export const JoinStatus = Type.Object({
  network_id: Id,
  status: Type.Union([Type.Literal("active"), Type.Literal("pending")]),
});
export type JoinStatus = Static<typeof JoinStatus>;

export const NetworkMember = Type.Object({
  user: Type.Object({ id: Id, username: Type.String() }),
  role: TenantRole,
  status: Type.Union([Type.Literal("active"), Type.Literal("pending")]),
  joined_at: Timestamp,
});
export type NetworkMember = Static<typeof NetworkMember>;

export const NetworkMemberList = Type.Object({
  members: Type.Array(NetworkMember, {
    description: "in the order they joined; pending ones only for moderators and above",
  }),
});

export const NetworkUserBody = Type.Object({ user_id: Id });

export const NetworkBanBody = Type.Object({
  user_id: Id,
  reason: Type.Optional(Type.String({ maxLength: 500 })),
  expires_at: Type.Optional(Timestamp),
  duration_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 * 365 * 86_400 })),
});

export const NetworkBan = Type.Object({
  network_id: Id,
  user_id: Id,
  reason: Type.Union([Type.String(), Type.Null()]),
  until: Type.Union([Timestamp, Type.Null()], { description: "null: until lifted" }),
  by_id: Id,
  created_at: Timestamp,
});
export type NetworkBan = Static<typeof NetworkBan>;
export const NetworkBanList = Type.Object({ bans: Type.Array(NetworkBan) });

/** A device in a network (one peer object for every route and event about peers). */
export const NetworkPeer = Type.Object({
  id: Id,
  network_id: Id,
  device_id: Id,
  user_id: Id,
  name: Type.String({ description: "the device's name" }),
  address: Type.String({ description: "dotted IPv4 inside the network's range" }),
  public_key: Type.String({ description: "the device's WireGuard public key, base64" }),
  endpoint: Type.Union([Type.String(), Type.Null()], {
    description: '"host:port" the device reported, if any',
  }),
  online: Type.Boolean(),
  last_seen: Type.Union([Timestamp, Type.Null()]),
  path_report: Type.Optional(
    Type.Union([PeerPathReport, Type.Null()], {
      description: "the paths this device last reported to the other peers (direct or relay, and why)",
    }),
  ),
});
export type NetworkPeer = Static<typeof NetworkPeer>;

export const AddPeerBody = Type.Object({
  device_id: Id,
  address: Type.Optional(
    Type.String({
      ...Ipv4Address,
      description: "pin this address (admins and owner only); otherwise one is allocated",
    }),
  ),
});

export const PeerAddressBody = Type.Object({ address: Ipv4Address });

export const Reservation = Type.Object({
  network_id: Id,
  address: Type.String(),
  note: Type.Union([Type.String(), Type.Null()]),
  by_id: Id,
  created_at: Timestamp,
});
export type Reservation = Static<typeof Reservation>;

export const ReservationList = Type.Object({
  reservations: Type.Array(Reservation, { description: "in address order" }),
});

export const CreateReservationBody = Type.Object({
  address: Ipv4Address,
  note: Type.Optional(Type.String({ maxLength: 200 })),
});
