import type { Network, NetworkPeer, Static, UpdateNetworkBody } from "@warren/protocol";
import type { Client } from "@warren/sdk";
import { Command } from "commander";
import { action, finish } from "../action.js";
import { CliError, type Column, emit, emitList, fields, usageError } from "../output.js";
import { parseChoice } from "../parse.js";
import { confirm } from "../prompt.js";
import { isId, resolveNetwork, resolveNetworkId, resolveTenantId } from "../resolve.js";
import { openSession } from "../session.js";
import { ROLES } from "./members.js";
import { addNetworkMemberCommands } from "./network-members.js";

/** `warren networks …`: a community's virtual LANs, their peers and reserved addresses. */

const NETWORK_COLUMNS: Column<Network>[] = [
  { header: "id", value: (n) => n.id },
  { header: "name", value: (n) => n.name },
  { header: "cidr", value: (n) => n.cidr },
  { header: "join", value: (n) => n.join_policy },
  { header: "members", value: (n) => n.member_count },
  { header: "you", value: (n) => n.my_status ?? "-" },
];

const PEER_COLUMNS: Column<NetworkPeer>[] = [
  { header: "name", value: (p) => p.name },
  { header: "address", value: (p) => p.address },
  { header: "online", value: (p) => (p.online ? "yes" : "no") },
  { header: "endpoint", value: (p) => p.endpoint },
  { header: "public key", value: (p) => p.public_key },
  { header: "peer id", value: (p) => p.id },
];

function showNetwork(n: Network): string {
  return fields([
    ["id", n.id],
    ["name", n.name],
    ["community", n.tenant_id],
    ["description", n.description],
    ["cidr", n.cidr],
    ["visibility", n.visibility],
    ["join policy", n.join_policy],
    ["required role", n.required_role],
    ["allocation", n.allocation],
    ["members", n.member_count],
    ["you", n.my_status ?? "not a member"],
    ["created", n.created_at],
  ]);
}

interface SettingOptions {
  name?: string;
  cidr?: string;
  description?: string;
  visibility?: string;
  joinPolicy?: string;
  requiredRole?: string;
  allocation?: string;
}

function settings(o: SettingOptions): Static<typeof UpdateNetworkBody> {
  const body: Static<typeof UpdateNetworkBody> = {};
  if (o.name !== undefined) body.name = o.name;
  if (o.cidr !== undefined) body.cidr = o.cidr;
  if (o.description !== undefined) body.description = o.description;
  if (o.visibility !== undefined)
    body.visibility = parseChoice(o.visibility, ["public", "private"] as const, "--visibility");
  if (o.joinPolicy !== undefined) {
    body.join_policy = parseChoice(o.joinPolicy, ["open", "invite", "approval"] as const, "--join-policy");
  }
  if (o.requiredRole !== undefined)
    body.required_role = parseChoice(o.requiredRole, ROLES, "--required-role");
  if (o.allocation !== undefined)
    body.allocation = parseChoice(o.allocation, ["sequential", "random"] as const, "--allocation");
  return body;
}

const withSettings = (command: Command) =>
  command
    .option("--description <text>", "what the network is for")
    .option("--visibility <v>", "public (listed to the community) or private (members and admins)")
    .option("--join-policy <p>", "open, approval (a moderator approves) or invite (invites only)")
    .option("--required-role <role>", "lowest community role that may join: member, moderator, admin, owner")
    .option("--allocation <a>", "how devices get addresses: sequential or random");

/** A peer of the network by id, or by its device's name. */
async function resolvePeer(client: Client, networkId: string, ref: string): Promise<NetworkPeer> {
  const peers = (await client.networks.peers(networkId)).peers;
  const matches = peers.filter((p) => (isId(ref) ? p.id === ref || p.device_id === ref : p.name === ref));
  if (matches.length === 1) return matches[0] as NetworkPeer;
  if (matches.length === 0) throw new CliError(`no peer "${ref}" in this network`, 1, "not_found");
  throw new CliError(
    `"${ref}" names more than one peer; use a peer id:\n${matches.map((p) => `  ${p.id}  ${p.address}`).join("\n")}`,
    1,
    "ambiguous",
  );
}

export function networksCommand(): Command {
  const networks = new Command("networks").description("networks (virtual LANs) of a community");
  const network = (c: Command) => c.argument("<network>", 'network id, name, or "community/name"');

  networks
    .command("list")
    .description("the community's networks you may see")
    .argument("<community>", "community id or name")
    .action(
      action(async ([ref], o) => {
        const { client } = openSession({ server: o.server });
        const result = await client.networks.list(await resolveTenantId(client, ref as string));
        emitList(o.json, result, result.networks, NETWORK_COLUMNS, "no networks");
      }),
    );

  network(networks.command("show").description("one network")).action(
    action(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      emit(o.json, await resolveNetwork(client, ref as string), showNetwork);
    }),
  );

  withSettings(
    networks
      .command("create")
      .description("create a network (admins and the owner); you are its first member")
      .argument("<community>", "community id or name")
      .requiredOption("--name <name>", "the network's name")
      .requiredOption("--cidr <range>", "IPv4 range, /8 to /30, in private space, e.g. 10.1.0.0/24"),
  ).action(
    action<SettingOptions>(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const body = { ...settings(o), name: o.name as string, cidr: o.cidr as string };
      const created = await client.networks.create(await resolveTenantId(client, ref as string), body);
      emit(o.json, created, (n) => `created network ${n.name} ${n.cidr} (${n.id})`);
    }),
  );

  withSettings(
    network(networks.command("update").description("change a network (admins and the owner)"))
      .option("--name <name>", "new name")
      .option("--cidr <range>", "new range (only while the network has no devices or reservations)"),
  ).action(
    action<SettingOptions>(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const body = settings(o);
      if (Object.keys(body).length === 0) throw usageError("nothing to change: pass at least one option");
      emit(
        o.json,
        await client.networks.update(await resolveNetworkId(client, ref as string), body),
        showNetwork,
      );
    }),
  );

  network(
    networks.command("delete").description("delete a network with its peers and chat (admins and the owner)"),
  )
    .option("--yes", "do not ask for confirmation")
    .action(
      action<{ yes?: boolean }>(async ([ref], o) => {
        const { client } = openSession({ server: o.server });
        const target = await resolveNetwork(client, ref as string);
        await confirm(`Delete network ${target.name} and disconnect its devices?`, o.yes);
        await client.networks.remove(target.id);
        emit(o.json, { deleted: target.id }, () => `deleted network ${target.name}`);
      }),
    );

  network(networks.command("join").description("join: at once (open) or as a request (approval)")).action(
    action(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const target = await resolveNetwork(client, ref as string);
      const status = await client.networks.join(target.id);
      emit(o.json, status, (s) =>
        s.status === "active"
          ? `joined ${target.name}; \`warren up ${target.name}\` or \`warren config ${target.name}\` connects this device`
          : `asked to join ${target.name}; a moderator will approve or deny`,
      );
    }),
  );

  network(
    networks.command("leave").description("leave a network (or withdraw a request); your devices leave it"),
  ).action(
    action(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const target = await resolveNetwork(client, ref as string);
      await client.networks.leave(target.id);
      emit(o.json, { left: target.id }, () => `left ${target.name}`);
    }),
  );

  network(networks.command("peers").description("the devices in a network, in address order")).action(
    action(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const result = await client.networks.peers(await resolveNetworkId(client, ref as string));
      emitList(o.json, result, result.peers, PEER_COLUMNS, "no devices in this network yet");
    }),
  );

  network(
    networks
      .command("remove-peer")
      .description("take a device out of a network (yours, or any as a moderator)"),
  )
    .argument("<peer>", "peer id, device id or device name")
    .action(
      action(async ([ref, which], o) => {
        const { client } = openSession({ server: o.server });
        const peer = await resolvePeer(
          client,
          await resolveNetworkId(client, ref as string),
          which as string,
        );
        await client.peers.remove(peer.id);
        emit(o.json, { removed: peer.id }, () => `removed ${peer.name} (${peer.address})`);
      }),
    );

  network(networks.command("move-peer").description("give a device another address (admins and the owner)"))
    .argument("<peer>", "peer id, device id or device name")
    .argument("<address>", "the new address, inside the network's range")
    .action(
      action(async ([ref, which, address], o) => {
        const { client } = openSession({ server: o.server });
        const peer = await resolvePeer(
          client,
          await resolveNetworkId(client, ref as string),
          which as string,
        );
        const moved = await client.peers.setAddress(peer.id, { address: address as string });
        emit(o.json, moved, (p) => `${p.name} is now ${p.address}`);
      }),
    );

  network(networks.command("reservations").description("reserved addresses (admins and the owner)")).action(
    action(async ([ref], o) => {
      const { client } = openSession({ server: o.server });
      const result = await client.networks.reservations(await resolveNetworkId(client, ref as string));
      emitList(
        o.json,
        result,
        result.reservations,
        [
          { header: "address", value: (r) => r.address },
          { header: "note", value: (r) => r.note },
          { header: "since", value: (r) => r.created_at },
        ],
        "no reserved addresses",
      );
    }),
  );

  network(
    networks.command("reserve").description("keep an address from being given out (admins and the owner)"),
  )
    .argument("<address>", "an address inside the network's range")
    .option("--note <text>", "what it is kept for")
    .action(
      action<{ note?: string }>(async ([ref, address], o) => {
        const { client } = openSession({ server: o.server });
        const body =
          o.note === undefined
            ? { address: address as string }
            : { address: address as string, note: o.note };
        const reserved = await client.networks.reserve(await resolveNetworkId(client, ref as string), body);
        emit(o.json, reserved, (r) => `reserved ${r.address}`);
      }),
    );

  network(networks.command("unreserve").description("release a reserved address (admins and the owner)"))
    .argument("<address>", "the reserved address")
    .action(
      action(async ([ref, address], o) => {
        const { client } = openSession({ server: o.server });
        await client.networks.unreserve(await resolveNetworkId(client, ref as string), address as string);
        emit(o.json, { released: address }, () => `released ${address}`);
      }),
    );

  addNetworkMemberCommands(networks, network);
  return finish(networks);
}
