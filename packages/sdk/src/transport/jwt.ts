/**
 * When a JWT expires, in epoch milliseconds, read from its payload's `exp` (RFC 7519
 * §4.1.4). Not verified: the client only uses it to refresh before the server would
 * refuse the token. Undefined when the token is not a JWT or carries no exp.
 */
export function jwtExpiresAt(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
