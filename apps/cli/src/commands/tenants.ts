import type { Static, Tenant, UpdateTenantBody } from "@warren/protocol";
import { Command } from "commander";
import { action, finish } from "../action.js";
import { type Column, emit, emitList, fields, usageError } from "../output.js";
import { parseChoice, parsePositiveInt } from "../parse.js";
import { askHidden, confirm } from "../prompt.js";
import { resolveTenant, resolveTenantId, resolveTenantUser } from "../resolve.js";
import { openSession } from "../session.js";

/** `warren tenants …`: communities (the API calls them tenants). */

export const TENANT_COLUMNS: Column<Tenant>[] = [
  { header: "id", value: (t) => t.id },
  { header: "name", value: (t) => t.name },
  { header: "role", value: (t) => t.role },
  { header: "members", value: (t) => t.member_count },
  { header: "access", value: (t) => t.access },
  { header: "visibility", value: (t) => t.visibility },
];

export function showTenant(t: Tenant): string {
  return fields([
    ["id", t.id],
    ["name", t.name],
    ["description", t.description],
    ["visibility", t.visibility],
    ["access", t.access],
    ["your role", t.role ?? "not a member"],
    ["members", t.member_count],
    ["owner", t.owner_id],
    ["created", t.created_at],
  ]);
}

const VISIBILITY = ["public", "private"] as const;
const ACCESS = ["open", "password", "invite_only"] as const;

interface SettingOptions {
  name?: string;
  description?: string;
  visibility?: string;
  access?: string;
  password?: string | true;
}

/** `--password` alone asks for it (so it stays out of the shell history and `ps`). */
async function passwordOf(value: string | true | undefined): Promise<string | undefined> {
  if (value === true) return askHidden("Community password: ", "--password <password>");
  return value;
}

async function settings(o: SettingOptions): Promise<Static<typeof UpdateTenantBody>> {
  const body: Static<typeof UpdateTenantBody> = {};
  if (o.name !== undefined) body.name = o.name;
  if (o.description !== undefined) body.description = o.description;
  if (o.visibility !== undefined) body.visibility = parseChoice(o.visibility, VISIBILITY, "--visibility");
  if (o.access !== undefined) body.access = parseChoice(o.access, ACCESS, "--access");
  const password = await passwordOf(o.password);
  if (password !== undefined) body.password = password;
  return body;
}

const withSettings = (command: Command, nameFlag: boolean) => {
  if (nameFlag) command.option("--name <name>", "new name");
  return command
    .option("--description <text>", "what the community is for")
    .option("--visibility <v>", "public (listed in discovery) or private")
    .option("--access <a>", "how people join without an invite: open, password or invite_only")
    .option("--password [password]", "the join password for access=password (asked for when left out)");
};

export function tenantsCommand(): Command {
  const tenants = new Command("tenants")
    .alias("communities")
    .description("communities: list, discover, create, change, join and leave them");

  tenants
    .command("list")
    .description("my communities, or public ones with --discover")
    .option("--discover", "public communities instead of mine")
    .option("--search <text>", "with --discover: names containing this text")
    .option("--limit <n>", "with --discover: at most this many (default 50)")
    .action(
      action<{ discover?: boolean; search?: string; limit?: string }>(async (_, o) => {
        const { client } = openSession({ server: o.server });
        if (o.search !== undefined && !o.discover) throw usageError("--search works with --discover");
        const limit = o.limit ? parsePositiveInt(o.limit, "--limit") : 50;
        const list: Tenant[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.tenants.list(
            o.discover
              ? { discover: true, q: o.search, limit: Math.min(100, limit - list.length), cursor }
              : {},
          );
          list.push(...page.tenants);
          cursor = page.next_cursor ?? undefined;
        } while (cursor && list.length < limit);
        emitList(
          o.json,
          { tenants: list },
          list,
          TENANT_COLUMNS,
          o.discover ? "no public communities found" : "no communities yet",
        );
      }),
    );

  tenants
    .command("show")
    .description("one community")
    .argument("<community>", "id or name")
    .action(
      action(async ([ref], o) => {
        const { client } = openSession({ server: o.server });
        const tenant = await resolveTenant(client, ref as string, { discover: true });
        emit(o.json, tenant, showTenant);
      }),
    );

  withSettings(
    tenants.command("create").description("create a community; you are its owner").argument("<name>"),
    false,
  ).action(
    action<SettingOptions>(async ([name], o) => {
      const { client } = openSession({ server: o.server });
      const body = { ...(await settings(o)), name: name as string };
      const tenant = await client.tenants.create(body);
      emit(o.json, tenant, (t) => `created community ${t.name} (${t.id})`);
    }),
  );

  withSettings(
    tenants
      .command("update")
      .description("change a community's settings (admins and the owner)")
      .argument("<community>", "id or name"),
    true,
  ).action(
    action<SettingOptions>(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const body = await settings(o);
      if (Object.keys(body).length === 0) throw usageError("nothing to change: pass at least one option");
      const tenant = await client.tenants.update(await resolveTenantId(client, ref as string), body);
      emit(o.json, tenant, showTenant);
    }),
  );

  tenants
    .command("delete")
    .description("delete a community with its networks, chat and invites (owner only)")
    .argument("<community>", "id or name")
    .option("--yes", "do not ask for confirmation")
    .action(
      action<{ yes?: boolean }>(async ([ref], o) => {
        const { client } = openSession({ server: o.server });
        const tenant = await resolveTenant(client, ref as string);
        await confirm(`Delete community ${tenant.name} and all its networks?`, o.yes);
        await client.tenants.remove(tenant.id);
        emit(o.json, { deleted: tenant.id }, () => `deleted community ${tenant.name}`);
      }),
    );

  tenants
    .command("join")
    .description("join a community: open ones at once, password ones with --password")
    .argument("<community>", "id, or the name of a public community")
    .option("--password [password]", "the community's join password (asked for when left out)")
    .action(
      action<{ password?: string | true }>(async ([ref], o) => {
        const { client } = openSession({ server: o.server });
        const target = await resolveTenant(client, ref as string, { discover: true });
        const password = await passwordOf(o.password);
        const tenant = await client.tenants.join(target.id, password === undefined ? {} : { password });
        emit(o.json, tenant, (t) => `joined ${t.name} as ${t.role}`);
      }),
    );

  tenants
    .command("leave")
    .description("leave a community (an owner transfers ownership first)")
    .argument("<community>", "id or name")
    .action(
      action(async ([ref], o) => {
        const { client } = openSession({ server: o.server });
        const tenant = await resolveTenant(client, ref as string);
        await client.tenants.leave(tenant.id);
        emit(o.json, { left: tenant.id }, () => `left ${tenant.name}`);
      }),
    );

  tenants
    .command("transfer")
    .description("hand ownership to another member (owner only); you become an admin")
    .argument("<community>", "id or name")
    .argument("<user>", "the new owner: user id or username")
    .action(
      action(async ([ref, user], o) => {
        const { client } = openSession({ server: o.server });
        const tenantId = await resolveTenantId(client, ref as string);
        const target = await resolveTenantUser(client, tenantId, user as string);
        const tenant = await client.tenants.transfer(tenantId, target.id);
        emit(o.json, tenant, (t) => `${target.username ?? target.id} now owns ${t.name}`);
      }),
    );

  return finish(tenants);
}
