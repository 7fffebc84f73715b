import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import path from "node:path";
import { CliError } from "../output.js";
import { configDir } from "../store/paths.js";

/**
 * The running daemon's control socket: a Unix socket, daemon.sock in its state
 * directory. The directory is kept at mode 0700 and the socket at 0600, so only the
 * daemon's own user (root, for a daemon that manages interfaces) reaches it.
 *
 * The protocol is one JSON object per line each way, answered in order:
 *   {"command":"status"}                  → {"ok":true,"result":StatusView}
 *   {"command":"down"}                    → every network down, then the daemon stops
 *   {"command":"down","network":"lan"}    → one network (id or name) down; the daemon stays
 * A failure answers {"ok":false,"error":{"code":"…","message":"…"}}.
 */
export type ControlRequest = { command: "status" } | { command: "down"; network?: string };

export type ControlReply =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

/** What the daemon does for a request: the result, and work to run once the reply is sent. */
export type ControlHandler = (request: ControlRequest) => Promise<{ result: unknown; after?: () => void }>;

/** A request line longer than this closes the connection. */
const MAX_LINE = 64 * 1024;

export const controlSocketPath = (dir = configDir()) => path.join(dir, "daemon.sock");

/** An error whose code and message reach the client as they are. */
export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** True when a daemon answers on the socket; false when there is none or it is stale. */
export function daemonAnswers(file: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(file);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ECONNREFUSED" || err.code === "ENOTSOCK") resolve(false);
      else reject(new CliError(`cannot reach the daemon at ${file}: ${err.message}`));
    });
  });
}

/**
 * Listens on the state directory's control socket. Refuses when another daemon answers
 * there; a socket left by one that died is removed first.
 */
export async function listenControl(
  dir: string,
  handler: ControlHandler,
  log: (line: string) => void,
): Promise<{ path: string; close(): Promise<void> }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = controlSocketPath(dir);
  if (await daemonAnswers(file)) {
    throw new CliError(`warren up is already running here (${file}); stop it with \`warren down\` first`);
  }
  rmSync(file, { force: true });
  const connections = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
    serve(socket, handler, log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(file, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(file, 0o600);
  server.on("error", (err) => log(`control socket: ${err.message}`));
  return {
    path: file,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of connections) socket.destroy();
        // close() removes the socket file; the stale-socket check covers a crash.
        server.close(() => resolve());
      }),
  };
}

function serve(socket: Socket, handler: ControlHandler, log: (line: string) => void): void {
  let buffer = "";
  let queue = Promise.resolve();
  socket.setEncoding("utf8");
  socket.on("error", () => {});
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    let end = buffer.indexOf("\n");
    while (end >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (line.trim()) queue = queue.then(() => answer(socket, line, handler, log));
      end = buffer.indexOf("\n");
    }
    if (buffer.length > MAX_LINE) socket.destroy();
  });
}

async function answer(
  socket: Socket,
  line: string,
  handler: ControlHandler,
  log: (line: string) => void,
): Promise<void> {
  let reply: ControlReply;
  let after: (() => void) | undefined;
  try {
    const done = await handler(parseRequest(line));
    reply = { ok: true, result: done.result };
    after = done.after;
  } catch (err) {
    const code = err instanceof ControlError ? err.code : "failed";
    reply = { ok: false, error: { code, message: (err as Error).message } };
    if (!(err instanceof ControlError)) log(`control socket: ${(err as Error).message}`);
  }
  await new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.write(`${JSON.stringify(reply)}\n`, () => resolve());
  });
  after?.();
}

function parseRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ControlError("bad_request", "a request is one JSON object per line");
  }
  const request = value as { command?: unknown; network?: unknown };
  if (request?.command === "status") return { command: "status" };
  if (request?.command === "down") {
    if (request.network === undefined) return { command: "down" };
    if (typeof request.network === "string" && request.network) {
      return { command: "down", network: request.network };
    }
    throw new ControlError("bad_request", "down: network is a network id or name");
  }
  throw new ControlError("bad_request", 'command is "status" or "down"');
}

/**
 * Sends one request to the daemon of the state directory and waits for its answer.
 * Undefined when no daemon runs there; a refusal by the daemon throws a CliError.
 */
export function askDaemon<T>(
  request: ControlRequest,
  options: { dir?: string; timeoutMs?: number } = {},
): Promise<T | undefined> {
  const file = controlSocketPath(options.dir);
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const socket = connect(file);
    let buffer = "";
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CliError(`the daemon did not answer "${request.command}" within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    socket.setEncoding("utf8");
    socket.once("connect", () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf("\n");
      if (end < 0) return;
      let reply: ControlReply;
      try {
        reply = JSON.parse(buffer.slice(0, end)) as ControlReply;
      } catch {
        finish(() => reject(new CliError("the daemon answered something that is not JSON")));
        return;
      }
      if (reply.ok) finish(() => resolve(reply.result as T));
      else finish(() => reject(new CliError(reply.error.message, 1, reply.error.code)));
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      const none = !connected && (err.code === "ENOENT" || err.code === "ECONNREFUSED");
      finish(() =>
        none
          ? resolve(undefined)
          : reject(new CliError(`cannot reach the daemon at ${file}: ${err.message}`)),
      );
    });
    socket.once("close", () => {
      if (connected)
        finish(() => reject(new CliError("the daemon closed the control socket without answering")));
    });
  });
}
