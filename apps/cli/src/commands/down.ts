import { Command } from "commander";
import { action, finish } from "../action.js";
import { askDaemon, controlSocketPath, daemonAnswers } from "../daemon/control.js";
import type { Removed } from "../daemon/daemon.js";
import { clearState, loadState, type NetworkState, saveState } from "../daemon/state.js";
import { CliError, emit } from "../output.js";
import { createBackend } from "../wg/backend.js";
import { systemRunner } from "../wg/runner.js";

type Outcome = { removed: Pick<Removed, "network" | "interface" | "existed">[]; daemon_stopped: boolean };

/**
 * `warren down [network]`: removes what `warren up` created. A running daemon is asked
 * over its control socket: it takes the network down (all of them, then it stops) and
 * answers when that is done. With no daemon, the interfaces recorded in daemon.json are
 * removed here.
 */
export function downCommand(): Command {
  const down = new Command("down")
    .description("remove the WireGuard interfaces `warren up` created (all, or one network's)")
    .argument("[network]", "network name or id (default: all)")
    .action(
      action(async ([name], opts) => {
        const outcome = (await viaDaemon(name)) ?? (await withoutDaemon(name));
        emit(opts.json, outcome, () =>
          outcome.removed.length === 0
            ? "nothing is up"
            : outcome.removed
                .map((r) =>
                  r.interface === ""
                    ? `${r.network}: no longer waiting for approval`
                    : `${r.network}: ${r.existed ? `removed ${r.interface}` : `${r.interface} was already gone`}`,
                )
                .join("\n"),
        );
      }),
    );
  return finish(down);
}

async function viaDaemon(name: string | undefined): Promise<Outcome | undefined> {
  const outcome = await askDaemon<Outcome>(
    name === undefined ? { command: "down" } : { command: "down", network: name },
  );
  if (!outcome?.daemon_stopped) return outcome;
  // It answers before it stops: wait (bounded) until it no longer does.
  const deadline = Date.now() + 10_000;
  while (await daemonAnswers(controlSocketPath())) {
    if (Date.now() > deadline) throw new CliError("the daemon did not stop within 10 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  return outcome;
}

async function withoutDaemon(name: string | undefined): Promise<Outcome> {
  const state = loadState();
  const entries = Object.values(state?.networks ?? {});
  const chosen =
    name === undefined ? entries : entries.filter((n) => n.network_id === name || n.network_name === name);
  if (name !== undefined && chosen.length === 0)
    throw new CliError(`network "${name}" is not up on this device`);
  if (chosen.length > 1)
    throw new CliError(`"${name}" names ${chosen.length} networks that are up: use its id`);
  const backend = createBackend(systemRunner());
  const removed: Outcome["removed"] = [];
  for (const entry of chosen) {
    const existed = await backend.remove(entry.interface);
    removed.push({ network: entry.network_name, interface: entry.interface, existed });
  }
  if (name === undefined) clearState();
  else if (state) {
    delete state.networks[(chosen[0] as NetworkState).network_id];
    saveState(state);
  }
  return { removed, daemon_stopped: false };
}
