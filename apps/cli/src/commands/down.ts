import { Command } from "commander";
import { action } from "../action.js";
import { clearState, isRunning, loadState, saveState } from "../daemon/state.js";
import { CliError, print } from "../output.js";
import { createBackend } from "../wg/backend.js";
import { systemRunner } from "../wg/runner.js";

/**
 * `warren down [network]`: removes what `warren up` created, read from daemon.json.
 * One network: its interface goes, and a running daemon is told (SIGHUP) to forget it.
 * No network: the daemon is stopped first, then every interface it made is removed.
 */
export function downCommand(): Command {
  return new Command("down")
    .description("remove the WireGuard interfaces `warren up` created (all, or one network's)")
    .argument("[network]", "network name or id (default: all)")
    .action(
      action(async ([name]) => {
        const state = loadState();
        if (!state || Object.keys(state.networks).length === 0) {
          if (state && isRunning(state.pid)) await stopDaemon(state.pid);
          clearState();
          print("nothing is up");
          return;
        }
        const backend = createBackend(systemRunner());
        const entries = Object.values(state.networks);
        const chosen =
          name === undefined
            ? entries
            : entries.filter((n) => n.network_id === name || n.network_name === name);
        if (chosen.length === 0) throw new CliError(`network "${name}" is not up on this device`);
        if (chosen.length > 1)
          throw new CliError(`"${name}" names ${chosen.length} networks that are up: use its id`);
        if (name === undefined) {
          if (isRunning(state.pid)) await stopDaemon(state.pid);
        } else if (isRunning(state.pid)) {
          // Tell the daemon first, so it does not bring the interface back.
          const rest = { ...state, networks: { ...state.networks } };
          delete rest.networks[(chosen[0] as (typeof chosen)[number]).network_id];
          saveState(rest);
          process.kill(state.pid, "SIGHUP");
          await new Promise((r) => setTimeout(r, 300));
        }
        for (const entry of chosen) {
          const existed = await backend.remove(entry.interface);
          delete state.networks[entry.network_id];
          print(
            `${entry.network_name}: ${existed ? `removed ${entry.interface}` : `${entry.interface} was already gone`}`,
          );
        }
        if (name === undefined) clearState();
        else if (!isRunning(state.pid)) saveState(state);
      }),
    );
}

async function stopDaemon(pid: number): Promise<void> {
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 10_000;
  while (isRunning(pid)) {
    if (Date.now() > deadline) throw new Error(`the daemon (pid ${pid}) did not stop within 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
