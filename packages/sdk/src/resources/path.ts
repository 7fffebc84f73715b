/**
 * A REST path with every interpolated value percent-encoded, so an id or address
 * from anywhere cannot change the route: path`/v1/tenants/${id}/members`.
 */
export function path(strings: TemplateStringsArray, ...values: string[]): string {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += encodeURIComponent(value) + (strings[i + 1] ?? "");
  });
  return out;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** Appends the defined entries of `query` as a query string. */
export function withQuery(base: string, query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}
