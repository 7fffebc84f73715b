import type { NetworkMember } from "@warren/protocol";
import type { Command } from "commander";
import { action } from "../action.js";
import { type Column, cell, emit, emitList } from "../output.js";
import { allTenantMembers, resolveNetwork, resolveNetworkUser } from "../resolve.js";
import { openSession } from "../session.js";
import { type BanOptions, banTerms, withBanOptions } from "./members.js";

/** `warren networks members|approve|deny|kick|ban|unban|bans`: who is in a network. */

const MEMBER_COLUMNS: Column<NetworkMember>[] = [
  { header: "user", value: (m) => m.user.username },
  { header: "id", value: (m) => m.user.id },
  { header: "role", value: (m) => m.role },
  { header: "status", value: (m) => m.status },
  { header: "joined", value: (m) => m.joined_at },
];

/** Adds the member subcommands to `networks`; `network` adds the <network> argument. */
export function addNetworkMemberCommands(networks: Command, network: (c: Command) => Command): void {
  const user = (c: Command) => network(c).argument("<user>", "user id or username");

  network(networks.command("members").description("members and (for moderators) pending requests")).action(
    action(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const target = await resolveNetwork(client, ref as string);
      const result = await client.networks.members(target.id);
      emitList(o.json, result, result.members, MEMBER_COLUMNS, "no members");
    }),
  );

  /** approve, deny, kick: the same shape, a network and a user. */
  const simple = (
    name: "approve" | "deny" | "kick",
    description: string,
    done: (username: string, network: string) => string,
  ) =>
    user(networks.command(name).description(description)).action(
      action(async ([ref, who], o) => {
        const { client } = openSession({ server: o.server });
        const target = await resolveNetwork(client, ref as string);
        const u = await resolveNetworkUser(client, target, who as string);
        const result = await client.networks[name](target.id, u.id);
        emit(o.json, result ?? { [name]: u.id, network_id: target.id }, () =>
          done(u.username ?? u.id, target.name),
        );
      }),
    );
  simple(
    "approve",
    "approve a join request, or add a community member directly (moderators and above)",
    (u, n) => `${u} is now a member of ${n}`,
  );
  simple(
    "deny",
    "deny a join request (moderators and above)",
    (u, n) => `denied ${u}'s request to join ${n}`,
  );
  simple(
    "kick",
    "remove a member and their devices (moderators and above)",
    (u, n) => `removed ${u} from ${n}`,
  );

  withBanOptions(
    user(networks.command("ban").description("ban a member from the network, removing their devices")),
  ).action(
    action<BanOptions>(async ([ref, who], o) => {
      const terms = banTerms(o);
      const { client } = openSession({ server: o.server });
      const target = await resolveNetwork(client, ref as string);
      const u = await resolveNetworkUser(client, target, who as string);
      const ban = await client.networks.ban(target.id, { user_id: u.id, ...terms });
      emit(
        o.json,
        ban,
        (b) => `banned ${u.username ?? u.id} from ${target.name}${b.until ? ` until ${cell(b.until)}` : ""}`,
      );
    }),
  );

  user(networks.command("unban").description("lift a network ban (moderators and above)")).action(
    action(async ([ref, who], o) => {
      const { client } = openSession({ server: o.server });
      const target = await resolveNetwork(client, ref as string);
      const u = await resolveNetworkUser(client, target, who as string);
      await client.networks.unban(target.id, u.id);
      emit(
        o.json,
        { unbanned: u.id, network_id: target.id },
        () => `lifted ${u.username ?? u.id}'s ban on ${target.name}`,
      );
    }),
  );

  network(networks.command("bans").description("bans in force on the network (moderators and above)")).action(
    action(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const target = await resolveNetwork(client, ref as string);
      const result = await client.networks.bans(target.id);
      // Bans carry user ids; the community's member list has the names of most.
      const names = new Map(
        (await allTenantMembers(client, target.tenant_id).catch(() => [])).map((m) => [
          m.user.id,
          m.user.username,
        ]),
      );
      emitList(
        o.json,
        result,
        result.bans,
        [
          { header: "user", value: (b) => names.get(b.user_id) },
          { header: "id", value: (b) => b.user_id },
          { header: "until", value: (b) => b.until ?? "lifted by hand" },
          { header: "reason", value: (b) => b.reason },
          { header: "since", value: (b) => b.created_at },
        ],
        "no bans",
      );
    }),
  );
}
