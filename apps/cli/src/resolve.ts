import type { Network, Tenant } from "@warren/protocol";
import type { Client } from "@warren/sdk";
import { CliError } from "./output.js";

/**
 * Commands take a community, network or user by id or by name. Names are looked up
 * in lists the caller may see; a name that matches more than one is an error that
 * lists the candidates, never a guess.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isId = (text: string) => UUID.test(text);

export interface UserRef {
  id: string;
  username?: string;
}

/** Exact matches win; otherwise case-insensitive ones. One match, or an error. */
function pick<T>(
  items: readonly T[],
  ref: string,
  nameOf: (t: T) => string,
  what: string,
  label: (t: T) => string,
): T {
  let matches = items.filter((t) => nameOf(t) === ref);
  if (matches.length === 0) matches = items.filter((t) => nameOf(t).toLowerCase() === ref.toLowerCase());
  if (matches.length === 1) return matches[0] as T;
  if (matches.length === 0) throw new CliError(`no ${what} named "${ref}"`, 1, "not_found");
  const list = matches.map((t) => `  ${label(t)}`).join("\n");
  throw new CliError(`"${ref}" names more than one ${what}; use an id:\n${list}`, 1, "ambiguous");
}

/** A community of mine by id or name; with `discover`, public ones by name too (to join them). */
export async function resolveTenant(
  client: Client,
  ref: string,
  options: { discover?: boolean } = {},
): Promise<Tenant> {
  if (isId(ref)) return client.tenants.get(ref);
  const mine = (await client.tenants.list()).tenants;
  const known = mine.some((t) => t.name.toLowerCase() === ref.toLowerCase());
  if (!known && options.discover) {
    const found = (await client.tenants.list({ discover: true, q: ref, limit: 100 })).tenants;
    return pick(
      found,
      ref,
      (t) => t.name,
      "public community",
      (t) => `${t.id}  ${t.name}`,
    );
  }
  return pick(
    mine,
    ref,
    (t) => t.name,
    "community of yours",
    (t) => `${t.id}  ${t.name}`,
  );
}

/** The id of a community: an id is taken as it is (no request), a name is looked up. */
export async function resolveTenantId(client: Client, ref: string): Promise<string> {
  return isId(ref) ? ref : (await resolveTenant(client, ref)).id;
}

/**
 * A network by id, "community/network", or a network name unique among the
 * networks of all my communities.
 */
export async function resolveNetwork(client: Client, ref: string): Promise<Network> {
  if (isId(ref)) return client.networks.get(ref);
  const slash = ref.indexOf("/");
  if (slash > 0) {
    const tenant = await resolveTenant(client, ref.slice(0, slash));
    const networks = (await client.networks.list(tenant.id)).networks;
    return pick(
      networks,
      ref.slice(slash + 1),
      (n) => n.name,
      `network in ${tenant.name}`,
      (n) => n.id,
    );
  }
  const tenants = (await client.tenants.list()).tenants;
  const lists = await Promise.all(
    tenants.map(async (t) => (await client.networks.list(t.id)).networks.map((n) => ({ n, t }))),
  );
  const found = pick(
    lists.flat(),
    ref,
    ({ n }) => n.name,
    "network in your communities",
    ({ n, t }) => `${n.id}  ${t.name}/${n.name}`,
  );
  return found.n;
}

export async function resolveNetworkId(client: Client, ref: string): Promise<string> {
  return isId(ref) ? ref : (await resolveNetwork(client, ref)).id;
}

/** Every member of a community (all pages). */
export async function allTenantMembers(client: Client, tenantId: string) {
  const members = [];
  let cursor: string | undefined;
  do {
    const page = await client.tenants.members(tenantId, { limit: 100, cursor });
    members.push(...page.members);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return members;
}

const userPick = (users: readonly UserRef[], ref: string, where: string): UserRef =>
  pick(
    users,
    ref,
    (u) => u.username ?? "",
    `user in ${where}`,
    (u) => `${u.id}  ${u.username}`,
  );

/** A user by id, or by username among a community's members and banned users. */
export async function resolveTenantUser(client: Client, tenantId: string, ref: string): Promise<UserRef> {
  if (isId(ref)) return { id: ref };
  const members = (await allTenantMembers(client, tenantId)).map((m) => m.user);
  if (members.some((u) => u.username.toLowerCase() === ref.toLowerCase())) {
    return userPick(members, ref, "this community");
  }
  // Banned users are no longer members; moderators may list them.
  const banned = await client.tenants.bans(tenantId).then(
    (b) => b.bans.map((x) => x.user),
    () => [],
  );
  return userPick(banned, ref, "this community");
}

/** A user by id, or by username among a network's members, else its community's. */
export async function resolveNetworkUser(client: Client, network: Network, ref: string): Promise<UserRef> {
  if (isId(ref)) return { id: ref };
  const members = (await client.networks.members(network.id)).members.map((m) => m.user);
  if (members.some((u) => u.username.toLowerCase() === ref.toLowerCase())) {
    return userPick(members, ref, "this network");
  }
  return resolveTenantUser(client, network.tenant_id, ref);
}
