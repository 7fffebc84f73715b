import { Command } from "commander";
import { action, finish } from "../action.js";
import { clearState, isRunning, loadState, type NetworkState, saveState } from "../daemon/state.js";
import { CliError, emit } from "../output.js";
import { createBackend } from "../wg/backend.js";
import { systemRunner } from "../wg/runner.js";

/**
 * `warren down [network]`: removes what `warren up` created, read from daemon.json.
 * One network: a running daemon is told first (state file edited, then SIGHUP) so it
 * does not bring the interface back, then the interface goes. No network: the daemon
 * is stopped first, then every interface it made is removed.
 */
export function downCommand(): Command {
  const down = new Command("down")
    .description("remove the WireGuard interfaces `warren up` created (all, or one network's)")
    .argument("[network]", "network name or id (default: all)")
    .action(
      action(async ([name], opts) => {
        const state = loadState();
        const entries = Object.values(state?.networks ?? {});
        const chosen =
          name === undefined
            ? entries
            : entries.filter((n) => n.network_id === name || n.network_name === name);
        if (name !== undefined && chosen.length === 0)
          throw new CliError(`network "${name}" is not up on this device`);
        if (chosen.length > 1)
          throw new CliError(`"${name}" names ${chosen.length} networks that are up: use its id`);
        const running = state && isRunning(state.pid) ? state.pid : undefined;
        if (state && name !== undefined && running) {
          const rest = { ...state, networks: { ...state.networks } };
          delete rest.networks[(chosen[0] as NetworkState).network_id];
          saveState(rest);
          process.kill(running, "SIGHUP");
          await new Promise((r) => setTimeout(r, 300));
        } else if (name === undefined && running) {
          await stopDaemon(running);
        }
        const backend = createBackend(systemRunner());
        const removed: { network: string; interface: string; existed: boolean }[] = [];
        for (const entry of chosen) {
          const existed = await backend.remove(entry.interface);
          removed.push({ network: entry.network_name, interface: entry.interface, existed });
        }
        if (name === undefined) clearState();
        else if (state && !running) {
          delete state.networks[(chosen[0] as NetworkState).network_id];
          saveState(state);
        }
        emit(opts.json, { removed, daemon_stopped: name === undefined && running !== undefined }, () =>
          removed.length === 0
            ? "nothing is up"
            : removed
                .map(
                  (r) =>
                    `${r.network}: ${r.existed ? `removed ${r.interface}` : `${r.interface} was already gone`}`,
                )
                .join("\n"),
        );
      }),
    );
  return finish(down);
}

async function stopDaemon(pid: number): Promise<void> {
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 10_000;
  while (isRunning(pid)) {
    if (Date.now() > deadline) throw new CliError(`the daemon (pid ${pid}) did not stop within 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
