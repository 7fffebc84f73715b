import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  removeTempDirs,
  runWarren,
  type ServerProcess,
  startWarren,
  stopAll,
  tempDir,
} from "./helpers/process.js";

/** `warren server` with TLS_CERT/TLS_KEY, and its plain-HTTP redirect. */

let certDir: string;
let cert: string;
let key: string;

function selfSigned(dir: string): { cert: string; key: string } {
  const out = { cert: path.join(dir, "cert.pem"), key: path.join(dir, "key.pem") };
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      out.key,
      "-out",
      out.cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
    ],
    { stdio: "ignore", timeout: 30_000 },
  );
  return out;
}

beforeAll(() => {
  certDir = tempDir("warren-tls-");
  ({ cert, key } = selfSigned(certDir));
});

afterAll(async () => {
  await stopAll();
  removeTempDirs();
});

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

function collect(res: http.IncomingMessage, resolve: (a: Answer) => void) {
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (c: string) => {
    body += c;
  });
  res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
}

function httpsGet(port: number, route: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: "127.0.0.1",
        servername: "localhost",
        port,
        path: route,
        rejectUnauthorized: false,
        agent: false,
        timeout: 5_000,
      },
      (res) => collect(res, resolve),
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

function httpGet(port: number, route: string, host: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port, path: route, headers: { host }, agent: false, timeout: 5_000 },
      (res) => collect(res, resolve),
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

describe("HTTPS with a redirect port", () => {
  let server: ServerProcess;
  let redirectPort: number;

  beforeAll(async () => {
    redirectPort = await freePort();
    server = await startWarren({
      env: { TLS_CERT: cert, TLS_KEY: key, HTTP_REDIRECT_PORT: String(redirectPort) },
    });
  });

  it("prints an https URL and answers /health over TLS with HSTS", async () => {
    expect(server.url).toBe(`https://localhost:${server.port}`);
    const res = await httpsGet(server.port, "/health");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: "ok" });
    expect(res.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
  });

  it("does not answer plain HTTP on the HTTPS port", async () => {
    const outcome = await httpGet(server.port, "/health", `localhost:${server.port}`).then(
      (res) => res.status,
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    expect(outcome).not.toBe(200);
  });

  it("redirects plain HTTP on HTTP_REDIRECT_PORT to the same path and query over HTTPS (308)", async () => {
    const res = await httpGet(redirectPort, "/v1/auth/me?x=1", `localhost:${redirectPort}`);
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe(`https://localhost:${server.port}/v1/auth/me?x=1`);
  });

  it("stops both listeners on SIGTERM with exit 0", async () => {
    server.child.kill("SIGTERM");
    expect(await server.waitForExit(8_000)).toEqual({ code: 0, signal: null });
    await expect(httpGet(redirectPort, "/", "localhost")).rejects.toThrow();
  });
});

describe.concurrent("bad TLS settings stop the server with one line", () => {
  afterAll(stopAll);

  async function expectOneLine(env: Record<string, string>, setting: string) {
    const cwd = tempDir();
    const result = await runWarren("server", [], { cwd, env: { PORT: "0", ...env } });
    expect(result.code).toBe(1);
    const lines = result.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^warren: ${setting} must be `));
    expect(result.stdout).not.toContain("listening");
    expect(existsSync(path.join(cwd, "data"))).toBe(false);
  }

  it("TLS_CERT without TLS_KEY", async () => {
    await expectOneLine({ TLS_CERT: cert }, "TLS_KEY");
  });

  it("TLS_KEY without TLS_CERT", async () => {
    await expectOneLine({ TLS_KEY: key }, "TLS_CERT");
  });

  it("TLS_CERT naming a missing file", async () => {
    await expectOneLine({ TLS_CERT: path.join(certDir, "missing.pem"), TLS_KEY: key }, "TLS_CERT");
  });

  it("TLS_KEY that is not PEM", async () => {
    const bad = path.join(tempDir(), "bad.pem");
    writeFileSync(bad, "not a key\n");
    await expectOneLine({ TLS_CERT: cert, TLS_KEY: bad }, "TLS_KEY");
  });

  it("TLS_KEY that does not belong to TLS_CERT", async () => {
    const other = selfSigned(tempDir("warren-tls-other-"));
    await expectOneLine({ TLS_CERT: cert, TLS_KEY: other.key }, "TLS_KEY");
  });
});
