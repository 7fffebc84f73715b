import { type Static, Type } from "typebox";
import { UUID_PATTERN } from "../ids.js";
import { Id, NAME_PATTERN, Timestamp } from "./common.js";

/** Communities (tenants), members, invites and bans. */

export const TENANT_PAGE_DEFAULT = 50;
export const TENANT_PAGE_MAX = 100;

export const TenantRole = Type.Union(
  [Type.Literal("owner"), Type.Literal("admin"), Type.Literal("moderator"), Type.Literal("member")],
  { description: "lowest to highest: member, moderator, admin, owner" },
);
/** Roles an invite may give: ownership only changes hands by transfer. */
export const InviteRole = Type.Union([
  Type.Literal("member"),
  Type.Literal("moderator"),
  Type.Literal("admin"),
]);
export const TenantVisibility = Type.Union([Type.Literal("public"), Type.Literal("private")], {
  description: "public communities show in discovery and can be read by anyone signed in",
});
export const TenantAccess = Type.Union(
  [Type.Literal("open"), Type.Literal("password"), Type.Literal("invite_only")],
  { description: "how someone joins without an invite (an invite always works)" },
);

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Name = Type.String({ minLength: 1, maxLength: 64, pattern: NAME_PATTERN });
const Description = Type.String({ maxLength: 500 });
const TenantPassword = Type.String({ minLength: 1, maxLength: 1024 });
const Limit = Type.Integer({ minimum: 1, maximum: TENANT_PAGE_MAX, default: TENANT_PAGE_DEFAULT });
const Cursor = Type.String({ minLength: 1, maxLength: 512, description: "next_cursor of the previous page" });

export const Tenant = Type.Object({
  id: Id,
  name: Type.String(),
  description: Type.String(),
  visibility: TenantVisibility,
  access: TenantAccess,
  owner_id: Id,
  created_at: Timestamp,
  updated_at: Timestamp,
  role: Type.Union([TenantRole, Type.Null()], { description: "the caller's role; null: not a member" }),
  member_count: Type.Integer({ minimum: 0 }),
});
export type Tenant = Static<typeof Tenant>;

export const CreateTenantBody = Type.Object({
  name: Name,
  description: Type.Optional(Description),
  visibility: Type.Optional(TenantVisibility),
  access: Type.Optional(TenantAccess),
  password: Type.Optional(TenantPassword),
});

export const UpdateTenantBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    visibility: Type.Optional(TenantVisibility),
    access: Type.Optional(TenantAccess),
    password: Type.Optional(TenantPassword),
  },
  { minProperties: 1 },
);

export const TenantListQuery = Type.Object({
  discover: Type.Optional(
    Type.Union([Type.Literal("1"), Type.Literal("true"), Type.Literal("0"), Type.Literal("false")], {
      description: "1: public communities instead of mine",
    }),
  ),
  q: Type.Optional(
    Type.String({ maxLength: 64, description: "name contains (case-insensitive); discovery only" }),
  ),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
});

export const TenantList = Type.Object({
  tenants: Type.Array(Tenant),
  next_cursor: Type.Union([Type.String(), Type.Null()], {
    description: "null: last page (always null for mine)",
  }),
});

export const TenantParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
export const TenantMemberParams = Type.Object({
  id: Type.String({ pattern: UUID_PATTERN }),
  user_id: Type.String({ pattern: UUID_PATTERN }),
});
export const TenantInviteParams = Type.Object({
  id: Type.String({ pattern: UUID_PATTERN }),
  invite_id: Type.String({ pattern: UUID_PATTERN }),
});

export const JoinTenantBody = Type.Object({
  password: Type.Optional(TenantPassword),
  invite_code: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});

export const TenantMember = Type.Object({
  user: Type.Object({ id: Id, username: Type.String() }),
  role: TenantRole,
  joined_at: Timestamp,
});
export type TenantMember = Static<typeof TenantMember>;

export const TenantMemberList = Type.Object({
  members: Type.Array(TenantMember, { description: "in the order they joined" }),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const MemberListQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) });

export const ChangeRoleBody = Type.Object({ role: TenantRole });
export const TransferBody = Type.Object({ user_id: Id });

export const Invite = Type.Object({
  id: Id,
  code: Type.String({ description: "url-safe; give it to the people you invite" }),
  tenant_id: Id,
  network_id: Nullable(Id),
  role: InviteRole,
  max_uses: Type.Union([Type.Integer(), Type.Null()], { description: "null: unlimited" }),
  uses: Type.Integer(),
  expires_at: Nullable(Timestamp),
  revoked_at: Nullable(Timestamp),
  created_by: Id,
  created_at: Timestamp,
});

export const CreateInviteBody = Type.Object({
  max_uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  expires_in_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 * 86_400 })),
  expires_at: Type.Optional(Timestamp),
  role: Type.Optional(InviteRole),
  network_id: Type.Optional(Id),
});

export const InviteList = Type.Object({ invites: Type.Array(Invite, { description: "newest first" }) });

export const AcceptInviteBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) });
export const AcceptedInvite = Type.Object({
  tenant: Tenant,
  network_id: Nullable(Id),
  role: TenantRole,
});

export const Ban = Type.Object({
  user: Type.Object({ id: Id, username: Type.String() }),
  reason: Nullable(Type.String()),
  until: Nullable(Timestamp),
  by_id: Id,
  created_at: Timestamp,
});

export const CreateBanBody = Type.Object({
  user_id: Id,
  reason: Type.Optional(Type.String({ maxLength: 500 })),
  expires_at: Type.Optional(Timestamp),
  duration_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 * 365 * 86_400 })),
});

export const BanList = Type.Object({ bans: Type.Array(Ban, { description: "bans in force, newest first" }) });
