import type { Client } from "@warren/sdk";
import { CliError } from "../output.js";
import { resolveNetwork } from "../resolve.js";
import type { NetworkTarget } from "./daemon.js";

/**
 * Which networks `warren up` brings up: the ones named (id, name, or
 * "community/network"), or with no names the ones this device is already a peer of,
 * or else every network the user is an active member of.
 */
export async function resolveTargets(
  client: Client,
  names: string[],
  deviceNetworks: string[],
): Promise<NetworkTarget[]> {
  const pick = (n: { id: string; name: string; tenant_id: string }): NetworkTarget => ({
    id: n.id,
    name: n.name,
    tenant_id: n.tenant_id,
  });
  if (names.length > 0) {
    return (await Promise.all(names.map((name) => resolveNetwork(client, name)))).map(pick);
  }
  const { tenants } = await client.tenants.list();
  const all = (
    await Promise.all(tenants.map(async (t) => (await client.networks.list(t.id)).networks))
  ).flat();
  const mine = all.filter((n) => deviceNetworks.includes(n.id));
  const chosen = mine.length > 0 ? mine : all.filter((n) => n.my_status === "active");
  if (chosen.length === 0) {
    throw new CliError("you are in no network yet: join one with `warren join <invite-code>`, or name one");
  }
  return chosen.map(pick);
}
