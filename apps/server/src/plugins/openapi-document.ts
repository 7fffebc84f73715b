/**
 * Rules the generated OpenAPI document follows so that standard tools accept it (Redocly's
 * recommended rules) and generated clients get stable names:
 * - every operation has an operationId: the route's own `schema.operationId` if it names
 *   one, else one derived from the method and path (below);
 * - an operation without `security` is public and says so with `security: []`;
 * - tuples are written the OpenAPI 3.1 (JSON Schema 2020-12) way: `prefixItems`, with
 *   `items: false` for "no more items", not the draft-07 `items: [...]`/`additionalItems`.
 */

/** `/v1/tenants/:id/members/:user_id` → `/v1/tenants/{id}/members/{user_id}` */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

const pascal = (word: string) =>
  word
    .split(/[-_]/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join("");

/**
 * The method, then the path's fixed segments (the version prefix left out), then the
 * trailing parameter if there is one: GET /v1/tenants/{id}/members → getTenantsMembers,
 * DELETE /v1/tenants/{id}/members/{user_id} → deleteTenantsMembersByUserId. A path only
 * ever grows, so a name once published does not change.
 */
export function operationIdFor(method: string, url: string): string {
  const segments = openApiPath(url)
    .split("/")
    .filter((s) => s && !/^v\d+$/.test(s));
  const last = segments.at(-1);
  const fixed = segments.filter((s) => !s.startsWith("{")).map(pascal);
  const by = last?.startsWith("{") ? `By${pascal(last.slice(1, -1))}` : "";
  return `${method.toLowerCase()}${fixed.join("")}${by}`;
}

type Json = unknown;

/** A copy of `node` with every draft-07 tuple rewritten with `prefixItems`. */
export function withPrefixItems(node: Json): Json {
  if (Array.isArray(node)) return node.map(withPrefixItems);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) out[k] = withPrefixItems(v);
  if (Array.isArray(out.items)) {
    out.prefixItems = out.items;
    out.items = out.additionalItems ?? false;
    delete out.additionalItems;
  }
  return out;
}
