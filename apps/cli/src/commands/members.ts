import type { TenantMember } from "@warren/protocol";
import { Command } from "commander";
import { action, finish } from "../action.js";
import { type Column, cell, emit, emitList } from "../output.js";
import { parseChoice, parseDuration } from "../parse.js";
import { allTenantMembers, resolveTenantId, resolveTenantUser } from "../resolve.js";
import { openSession } from "../session.js";

/** `warren members …`: a community's members, roles and bans (networks have their own). */

export const ROLES = ["member", "moderator", "admin", "owner"] as const;

export interface BanOptions {
  reason?: string;
  for?: string;
}

/** The body part of a ban shared by communities and networks. */
export function banTerms(o: BanOptions): { reason?: string; duration_seconds?: number } {
  const terms: { reason?: string; duration_seconds?: number } = {};
  if (o.reason !== undefined) terms.reason = o.reason;
  if (o.for !== undefined) terms.duration_seconds = parseDuration(o.for, "--for");
  return terms;
}

export const withBanOptions = (command: Command) =>
  command
    .option("--reason <text>", "why (shown to moderators)")
    .option("--for <duration>", "lift the ban after this long, e.g. 30m, 12h, 7d (default: until lifted)");

const MEMBER_COLUMNS: Column<TenantMember>[] = [
  { header: "user", value: (m) => m.user.username },
  { header: "id", value: (m) => m.user.id },
  { header: "role", value: (m) => m.role },
  { header: "joined", value: (m) => m.joined_at },
];

export function membersCommand(): Command {
  const members = new Command("members").description("a community's members: roles, kicks and bans");
  const community = (c: Command) => c.argument("<community>", "community id or name");
  const user = (c: Command) => c.argument("<user>", "user id or username");

  community(members.command("list").description("members, in the order they joined")).action(
    action(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const list = await allTenantMembers(client, await resolveTenantId(client, ref as string));
      emitList(o.json, { members: list }, list, MEMBER_COLUMNS, "no members");
    }),
  );

  user(community(members.command("role").description("change a member's role (admins and the owner)")))
    .argument("<role>", "member, moderator or admin")
    .action(
      action(async ([ref, who, role], o) => {
        const { client } = openSession({ server: o.server });
        const tenantId = await resolveTenantId(client, ref as string);
        const target = await resolveTenantUser(client, tenantId, who as string);
        const member = await client.tenants.setRole(
          tenantId,
          target.id,
          parseChoice(role as string, ROLES, "role"),
        );
        emit(o.json, member, (m) => `${m.user.username} is now ${m.role}`);
      }),
    );

  user(community(members.command("kick").description("remove a member (moderators and above)"))).action(
    action(async ([ref, who], o) => {
      const { client } = openSession({ server: o.server });
      const tenantId = await resolveTenantId(client, ref as string);
      const target = await resolveTenantUser(client, tenantId, who as string);
      await client.tenants.kick(tenantId, target.id);
      emit(o.json, { kicked: target.id }, () => `kicked ${target.username ?? target.id}`);
    }),
  );

  withBanOptions(
    user(community(members.command("ban").description("ban a user; a member is removed at once"))),
  ).action(
    action<BanOptions>(async ([ref, who], o) => {
      const terms = banTerms(o);
      const { client } = openSession({ server: o.server });
      const tenantId = await resolveTenantId(client, ref as string);
      const target = await resolveTenantUser(client, tenantId, who as string);
      const ban = await client.tenants.ban(tenantId, { user_id: target.id, ...terms });
      emit(o.json, ban, (b) => `banned ${b.user.username}${b.until ? ` until ${cell(b.until)}` : ""}`);
    }),
  );

  user(community(members.command("unban").description("lift a ban (moderators and above)"))).action(
    action(async ([ref, who], o) => {
      const { client } = openSession({ server: o.server });
      const tenantId = await resolveTenantId(client, ref as string);
      const target = await resolveTenantUser(client, tenantId, who as string);
      await client.tenants.unban(tenantId, target.id);
      emit(o.json, { unbanned: target.id }, () => `lifted the ban on ${target.username ?? target.id}`);
    }),
  );

  community(members.command("bans").description("bans in force (moderators and above)")).action(
    action(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const result = await client.tenants.bans(await resolveTenantId(client, ref as string));
      emitList(
        o.json,
        result,
        result.bans,
        [
          { header: "user", value: (b) => b.user.username },
          { header: "id", value: (b) => b.user.id },
          { header: "until", value: (b) => b.until ?? "lifted by hand" },
          { header: "reason", value: (b) => b.reason },
          { header: "since", value: (b) => b.created_at },
        ],
        "no bans",
      );
    }),
  );

  return finish(members);
}
