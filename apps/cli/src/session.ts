import { hostname } from "node:os";
import type { Device } from "@warren/protocol";
import { type Client, createClient, WarrenError } from "@warren/sdk";
import { CliError } from "./output.js";
import { sharedRefresh } from "./shared-refresh.js";
import { type Credentials, loadCredentials, normalizeServer, saveCredentials } from "./store/credentials.js";
import { type LocalDevice, loadDevice, saveDevice } from "./store/device.js";
import { generateWireGuardKeys } from "./wg/keys.js";

/**
 * A signed-in client for one command (or the daemon), built from the stored
 * credentials. Refreshed tokens are written back, so the next command starts signed in.
 */

/** The server to talk to: --server, else WARREN_SERVER, else the one in `stored`. */
export function serverUrl(option: string | undefined, stored?: string): string | undefined {
  const url = option || process.env.WARREN_SERVER || stored;
  return url ? normalizeServer(url) : undefined;
}

export function openSession(options: { server?: string } = {}): { client: Client; credentials: Credentials } {
  const stored = loadCredentials();
  if (!stored) throw new CliError("not logged in: run `warren login`", 1, "not_logged_in");
  const server = serverUrl(options.server, stored.server) as string;
  let current = stored.tokens;
  const client = createClient({
    baseUrl: server,
    tokens: stored.tokens,
    fetch: sharedRefresh(() => current),
    onTokens: (tokens) => {
      if (!tokens) return; // logout: the logout command clears the file itself
      current = tokens;
      // Read again: another process may have written since we loaded. Only the same
      // session is updated, so a long-running daemon never brings back credentials
      // that `warren logout` removed or overwrites a newer `warren login`.
      const latest = loadCredentials();
      if (latest && latest.tokens.session_id === tokens.session_id) saveCredentials({ ...latest, tokens });
    },
  });
  return { client, credentials: { ...stored, server } };
}

const PLATFORMS: Record<string, LocalDevice["platform"]> = {
  linux: "linux",
  darwin: "macos",
  win32: "windows",
};

export function platformOf(
  platform: NodeJS.Platform = process.platform,
): "linux" | "macos" | "windows" | "other" {
  return (PLATFORMS[platform] as "linux" | "macos" | "windows" | undefined) ?? "other";
}

/** A device name the server takes (1–64 characters): the host name by default. */
function deviceName(name: string | undefined): string {
  const text = (name ?? hostname()).trim().slice(0, 64);
  return text || "device";
}

const notFound = (err: unknown) => err instanceof WarrenError && err.status === 404;

/**
 * This machine's device in the signed-in account: the stored one if the server
 * still has it, else a new one. The WireGuard key pair is made here and only the
 * public key is sent (DESIGN.md principle 1).
 *
 * A crash between the server creating the device and saveDevice leaves a device on
 * the server whose key nobody holds; the next run makes another. The stray shows in
 * `warren devices list` and can be deleted: cheaper than a two-phase dance here.
 */
export async function ensureDevice(
  client: Client,
  credentials: Credentials,
  options: { name?: string } = {},
): Promise<LocalDevice> {
  const local = loadDevice(credentials.server, credentials.user.id);
  if (local) {
    const remote = await client.devices.get(local.device_id).catch((err: unknown) => {
      if (notFound(err)) return undefined;
      throw err;
    });
    if (remote) return settle(local, remote);
  }
  const keys = generateWireGuardKeys();
  const device = await client.devices.create({
    name: deviceName(options.name),
    platform: platformOf(),
    public_key: keys.publicKey,
  });
  const saved: LocalDevice = {
    server: credentials.server,
    user_id: credentials.user.id,
    device_id: device.id,
    name: device.name,
    platform: device.platform,
    private_key: keys.privateKey,
    public_key: keys.publicKey,
  };
  saveDevice(saved);
  return saved;
}

/**
 * Brings the stored device in line with the server's record: finishes or drops a key
 * rotation that was cut short, and takes the server's name for the device. Undefined
 * when the server holds a key this machine does not have.
 */
function reconcile(local: LocalDevice, remote: Device): LocalDevice | undefined {
  const { next_private_key, next_public_key, ...current } = local;
  if (remote.public_key === local.public_key) return { ...current, name: remote.name };
  if (next_private_key && next_public_key && remote.public_key === next_public_key) {
    return { ...current, name: remote.name, private_key: next_private_key, public_key: next_public_key };
  }
  return undefined;
}

function settle(local: LocalDevice, remote: Device): LocalDevice {
  const settled = reconcile(local, remote);
  if (!settled) {
    throw new CliError(
      `the server has a different WireGuard key for device "${remote.name}" than this machine holds; ` +
        "run `warren devices rotate-key` to give it a new one",
      1,
      "key_mismatch",
    );
  }
  if (JSON.stringify(settled) !== JSON.stringify(local)) saveDevice(settled);
  return settled;
}

/**
 * Gives this machine's device a new WireGuard key pair.
 *
 * The crash window: the new pair is saved as next_* BEFORE the server is asked, and
 * the old pair stays the one in use until the server has accepted the new public
 * key. A crash at any point leaves a private key for whichever public key the server
 * holds; ensureDevice (settle above) looks at the server's record and keeps the pair
 * that matches. A refusal from the server (4xx) drops next_* at once.
 *
 * With no usable stored key (the server holds a key this machine lacks), the rotation
 * is how the device is recovered, so the stored pair need not match beforehand.
 */
export async function rotateDeviceKey(client: Client, credentials: Credentials): Promise<LocalDevice> {
  const local = loadDevice(credentials.server, credentials.user.id);
  if (!local) {
    throw new CliError(
      "this machine has no device in this account yet: `warren devices register` or `warren config <network>` makes one",
      1,
      "no_device",
    );
  }
  const remote = await client.devices.get(local.device_id).catch((err: unknown) => {
    if (!notFound(err)) throw err;
    throw new CliError(
      "this machine's device is gone from the server: `warren devices register` makes a new one",
      1,
      "no_device",
    );
  });
  // Settle an earlier rotation first, so its key is not lost if the server took it.
  const { next_private_key: _p, next_public_key: _k, ...stale } = local;
  const current: LocalDevice = reconcile(local, remote) ?? stale;
  const next = generateWireGuardKeys();
  saveDevice({ ...current, next_private_key: next.privateKey, next_public_key: next.publicKey });
  let device: Device;
  try {
    device = await client.devices.rotateKey(current.device_id, next.publicKey);
  } catch (err) {
    // Refused: the server kept the old key. Anything else (no answer, 5xx) may have
    // been applied, so next_* stays for ensureDevice to settle.
    if (err instanceof WarrenError && err.status >= 400 && err.status < 500) saveDevice(current);
    throw err;
  }
  const rotated: LocalDevice = {
    ...current,
    name: device.name,
    private_key: next.privateKey,
    public_key: next.publicKey,
  };
  saveDevice(rotated);
  return rotated;
}
