import { setFlagsFromString } from "node:v8";

/**
 * V8 flags for the server process (`warren server`), set before anything is built.
 *
 * `--no-allocation-site-pretenuring`: V8 watches which allocation sites make objects
 * that survive young-generation collections and, past a threshold, allocates from those
 * sites straight into the old generation. A hub's per-frame objects (ws's receive
 * buffers, parsed frames, outgoing frames) survive a collection now and then during a
 * burst, their sites get pretenured, and from then on every frame's objects land in the
 * old generation: dead ones hold young objects alive through the remembered set until
 * the next full collection. Measured at 20k relayed frames/s (npm run bench -- relay,
 * see bench/README.md): young collections took 6–8 ms each and promoted ~1 MB every
 * time; without pretenuring, 1.5 ms and 3 KB, p99 latency 27–48 ms → 11–13 ms, and
 * memory per idle connection 7.3 → 6.4 KiB (the connect path's garbage stays young).
 *
 * Set at run time rather than on the command line so every way of starting the server
 * (npm start, the warren CLI, a process manager) gets it. The flag is read when the
 * collector decides, so setting it before the first collection is enough.
 */
export function setServerV8Flags(): void {
  setFlagsFromString("--no-allocation-site-pretenuring");
}
