import type { CreateInviteBody, Invite, Static } from "@warren/protocol";
import { Command } from "commander";
import { action, finish } from "../action.js";
import { CliError, emit, emitList } from "../output.js";
import { parseChoice, parseDuration, parsePositiveInt } from "../parse.js";
import { isId, resolveNetwork, resolveTenantId } from "../resolve.js";
import { openSession } from "../session.js";

/** `warren invites …`: invite codes of a community (redeemed with `warren join <code>`). */

const INVITE_ROLES = ["member", "moderator", "admin"] as const;

interface CreateOptions {
  uses?: string;
  expires?: string;
  role?: string;
  network?: string;
}

function status(i: Static<typeof Invite>): string {
  if (i.revoked_at) return "revoked";
  if (i.expires_at && Date.parse(i.expires_at) <= Date.now()) return "expired";
  if (i.max_uses !== null && i.uses >= i.max_uses) return "used up";
  return "active";
}

export function invitesCommand(): Command {
  const invites = new Command("invites").description("invite codes: create, list and revoke them");

  invites
    .command("create")
    .description("make an invite code (moderators and above)")
    .argument("<community>", "community id or name")
    .option("--uses <n>", "how many times it works (default: unlimited)")
    .option("--expires <duration>", "stop working after this long, e.g. 1h, 7d")
    .option("--role <role>", "the role it gives: member (default), moderator or admin")
    .option("--network <network>", "also join this network of the community (id or name)")
    .action(
      action<CreateOptions>(async ([ref], o) => {
        const body: Static<typeof CreateInviteBody> = {};
        if (o.uses !== undefined) body.max_uses = parsePositiveInt(o.uses, "--uses");
        if (o.expires !== undefined) body.expires_in_seconds = parseDuration(o.expires, "--expires");
        if (o.role !== undefined) body.role = parseChoice(o.role, INVITE_ROLES, "--role");
        const { client } = openSession({ server: o.server });
        const tenantId = await resolveTenantId(client, ref as string);
        if (o.network !== undefined) body.network_id = await networkOf(client, tenantId, o.network);
        const invite = await client.invites.create(tenantId, body);
        emit(o.json, invite, (i) => `${i.code}\n\nshare it: warren join ${i.code}`);
      }),
    );

  invites
    .command("list")
    .description("a community's invites, newest first (moderators and above)")
    .argument("<community>", "community id or name")
    .action(
      action(async ([ref], o) => {
        const { client } = openSession({ server: o.server });
        const result = await client.invites.list(await resolveTenantId(client, ref as string));
        emitList(
          o.json,
          result,
          result.invites,
          [
            { header: "id", value: (i) => i.id },
            { header: "code", value: (i) => i.code },
            { header: "role", value: (i) => i.role },
            { header: "uses", value: (i) => `${i.uses}/${i.max_uses ?? "∞"}` },
            { header: "expires", value: (i) => i.expires_at },
            { header: "network", value: (i) => i.network_id },
            { header: "status", value: status },
          ],
          "no invites",
        );
      }),
    );

  invites
    .command("revoke")
    .description("stop an invite from working (moderators and above)")
    .argument("<community>", "community id or name")
    .argument("<invite>", "invite id or code")
    .action(
      action(async ([ref, which], o) => {
        const { client } = openSession({ server: o.server });
        const tenantId = await resolveTenantId(client, ref as string);
        let inviteId = which as string;
        if (!isId(inviteId)) {
          const found = (await client.invites.list(tenantId)).invites.find((i) => i.code === which);
          if (!found) throw new CliError(`no invite with code "${which}" in this community`, 1, "not_found");
          inviteId = found.id;
        }
        await client.invites.revoke(tenantId, inviteId);
        emit(o.json, { revoked: inviteId }, () => `revoked invite ${which}`);
      }),
    );

  return finish(invites);
}

async function networkOf(client: ReturnType<typeof openSession>["client"], tenantId: string, ref: string) {
  if (isId(ref)) return ref;
  const network = await resolveNetwork(client, ref.includes("/") ? ref : `${tenantId}/${ref}`);
  return network.id;
}
