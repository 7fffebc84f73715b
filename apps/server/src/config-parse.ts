/** Small parsers for configuration values; each throws a message saying what it expects. */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "60s", "15m", "24h", "30d", or a bare number of seconds. */
export function parseDuration(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!match) throw new Error("a duration such as 30s, 15m, 24h or 30d");
  const value = Number(match[1]) * (UNITS[match[2] ?? "s"] ?? 1000);
  if (!Number.isFinite(value) || value <= 0) throw new Error("a positive duration");
  return Math.round(value);
}

export function parsePort(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 0 || n > 65535) throw new Error("a port number from 0 to 65535");
  return n;
}

export function parsePositiveInt(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1) throw new Error("a whole number of at least 1");
  return n;
}

export function parsePositiveNumber(raw: string): number {
  const n = Number(raw.trim());
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(n > 0)) throw new Error("a positive number");
  return n;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2 };

/** "1048576", "64KiB", "1MB". */
export function parseBytes(raw: string): number {
  const match = /^(\d+)\s*(b|kb|kib|mb|mib)?$/i.exec(raw.trim());
  if (!match) throw new Error("a size such as 65536, 64KiB or 1MiB");
  const n = Number(match[1]) * (SIZE_UNITS[(match[2] ?? "b").toLowerCase()] ?? 1);
  if (n < 1) throw new Error("a size of at least 1 byte");
  return n;
}

export function parseBool(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  throw new Error("true or false");
}

export function parseList(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** SERVER_ADDR, the host:port form older deployments use: ":8080", "0.0.0.0:8080", "[::1]:8080". */
export function parseAddress(raw: string): { host: string | undefined; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(raw.trim());
  if (!match) throw new Error('host:port, for example ":8080" or "127.0.0.1:8080"');
  const host = match[1] ?? match[2];
  return { host: host ? host : undefined, port: parsePort(match[3] ?? "") };
}

export function parseUrl(protocols: string[]) {
  return (raw: string): string => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`a URL starting with ${protocols.join(" or ")}`);
    }
    if (!protocols.includes(url.protocol)) throw new Error(`a URL starting with ${protocols.join(" or ")}`);
    return raw;
  };
}

export function parseEnum<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    const v = raw.trim().toLowerCase() as T;
    if (!values.includes(v)) throw new Error(`one of ${values.join(", ")}`);
    return v;
  };
}

/** TRUST_PROXY: a boolean, a hop count, or a list of proxy addresses or CIDRs. */
export function parseTrustProxy(raw: string): boolean | number | string[] {
  const v = raw.trim().toLowerCase();
  if (/^\d+$/.test(v)) return Number(v);
  if (["true", "false", "yes", "no", "on", "off"].includes(v)) return parseBool(v);
  const list = parseList(raw);
  if (list.length === 0 || !list.every((a) => /^[0-9a-f.:]+(\/\d{1,3})?$/i.test(a))) {
    throw new Error("true, false, a hop count, or a comma-separated list of proxy addresses or CIDRs");
  }
  return list;
}
