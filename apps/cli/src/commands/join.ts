import { Command } from "commander";
import { action, finish } from "../action.js";
import { emit, progress } from "../output.js";
import { openSession } from "../session.js";

/** `warren join <invite-code>`: redeem an invite: its community, and its network if it names one. */
export function joinCommand(): Command {
  const join = new Command("join")
    .description("accept an invite code: join its community, and its network if it names one")
    .argument("<invite-code>", "the code (or a link ending in it)")
    .action(
      action(async ([raw], o) => {
        const { client } = openSession({ server: o.server });
        // People paste whole links; the code is the last part.
        const code =
          (raw as string)
            .trim()
            .replace(/[?#].*$/, "")
            .split("/")
            .filter(Boolean)
            .pop() ?? "";
        progress("accepting the invite");
        const accepted = await client.invites.accept(code);
        let network: { id: string; name: string; status: string } | null = null;
        if (accepted.network_id) {
          // Accepting joins the network too; join again only if that did not happen.
          let n = await client.networks.get(accepted.network_id);
          if (n.my_status !== "active") {
            progress(`joining network ${n.name}`);
            await client.networks.join(n.id);
            n = await client.networks.get(n.id);
          }
          network = { id: n.id, name: n.name, status: n.my_status ?? "none" };
        }
        emit(o.json, { tenant: accepted.tenant, role: accepted.role, network }, () => {
          const lines = [`joined ${accepted.tenant.name} as ${accepted.role}`];
          if (network) {
            lines.push(
              `joined network ${network.name}: \`warren up ${network.name}\` or \`warren config ${network.name}\` connects this device`,
            );
          }
          return lines.join("\n");
        });
      }),
    );
  return finish(join);
}
