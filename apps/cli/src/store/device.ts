import { normalizeServer } from "./credentials.js";
import { readJson, writeSecretJson } from "./secret-file.js";

/**
 * This machine's device in one account on one server, with its WireGuard private
 * key. The private key stays in devices.json (mode 0600) and is never sent.
 */
export interface LocalDevice {
  server: string;
  user_id: string;
  device_id: string;
  name: string;
  platform: string;
  private_key: string;
  public_key: string;
  /**
   * A key pair made for a rotation the server has not confirmed yet (see
   * rotateDeviceKey in session.ts). The current key stays in use until it has.
   */
  next_private_key?: string;
  next_public_key?: string;
}

interface DeviceFile {
  version: 1;
  /** keyed by deviceKey(server, user id): one machine may hold devices of several accounts */
  devices: Record<string, LocalDevice>;
}

const FILE = "devices.json";

const deviceKey = (server: string, userId: string) => `${normalizeServer(server)} ${userId}`;

function readFile(): DeviceFile {
  const value = readJson(FILE) as DeviceFile | undefined;
  if (!value || typeof value.devices !== "object" || value.devices === null)
    return { version: 1, devices: {} };
  return value;
}

export function loadDevice(server: string, userId: string): LocalDevice | undefined {
  return readFile().devices[deviceKey(server, userId)];
}

export function saveDevice(device: LocalDevice): void {
  const file = readFile();
  const server = normalizeServer(device.server);
  file.devices[deviceKey(server, device.user_id)] = { ...device, server };
  writeSecretJson(FILE, file);
}

/** Forgets the device of an account (after it was deleted on the server). */
export function removeDevice(server: string, userId: string): void {
  const file = readFile();
  if (!file.devices[deviceKey(server, userId)]) return;
  delete file.devices[deviceKey(server, userId)];
  writeSecretJson(FILE, file);
}
