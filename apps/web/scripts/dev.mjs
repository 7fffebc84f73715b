#!/usr/bin/env node
// Hot-reloading dashboard against a running warren server: `npm run dev:web`.
// WARREN_API names the server (default http://127.0.0.1:8080); PORT the dev port (3000).
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const next = path.resolve(WEB, "../../node_modules/next/dist/bin/next");
const port = process.env.PORT ?? "3000";
console.log(
  `dashboard with hot reload on http://localhost:${port}/, API at ${process.env.WARREN_API ?? "http://127.0.0.1:8080"}`,
);
const child = spawn(process.execPath, [next, "dev", "--webpack", "--port", port], {
  cwd: WEB,
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
});
child.on("exit", (code) => process.exit(code ?? 0));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
