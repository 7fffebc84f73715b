/**
 * `npm run lab` (as root): builds the NAT lab, brings every device up, checks every pair
 * and prints a table; exits 1 when a pair fails. `--only pub,pr1,sym1` runs a subset of
 * the matrix; `--keep` leaves everything up until Ctrl-C to look around.
 */
import { buildLab, checkPairs, MATRIX } from "./scenario.js";

const args = process.argv.slice(2);
const only = args.includes("--only") ? (args[args.indexOf("--only") + 1] ?? "").split(",") : undefined;
const keep = args.includes("--keep");
const layout = only ? MATRIX.filter((d) => only.includes(d.name)) : MATRIX;
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

const started = Date.now();
const run = await buildLab(layout, log);
let failed = 0;
try {
  await run.upAll();
  log("every device is up");
  const results = await checkPairs(run);
  for (const r of results.sort((x, y) => `${x.a}${x.b}`.localeCompare(`${y.a}${y.b}`))) {
    if (!r.ok) failed++;
    const got = (g?: { path: string; reason: string }) => (g ? g.reason : "(no report)");
    console.log(
      `${r.ok ? "ok  " : "FAIL"} ${r.a.padEnd(5)} ↔ ${r.b.padEnd(5)} ping ${r.ping_ab ? "→" : "✗"}${r.ping_ba ? "←" : "✗"}  want ${r.expected.reason.padEnd(36)} got ${got(r.got_a)} | ${got(r.got_b)}`,
    );
  }
  log(
    `${results.length - failed}/${results.length} pairs as expected in ${Math.round((Date.now() - started) / 1000)} s`,
  );
  if (failed > 0) {
    for (const d of run.devices) console.log(`--- ${d.name}\n${d.daemon?.output().slice(-3000)}`);
  }
  if (keep) {
    log("--keep: Ctrl-C to tear down");
    await new Promise((resolve) => process.once("SIGINT", resolve));
  }
} finally {
  await run.stop();
}
process.exit(failed > 0 ? 1 : 0);
