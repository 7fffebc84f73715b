import type { Page } from "playwright-core";

/** Waits until the element matching `selector` contains `text`; resolves with the ms it took. */
export async function waitForText(
  page: Page,
  selector: string,
  text: string,
  timeout = 10_000,
): Promise<number> {
  const started = Date.now();
  await page.waitForFunction(
    ({ selector, text }) =>
      (globalThis as any).document.querySelector(selector)?.textContent?.includes(text) ?? false,
    { selector, text },
    { timeout, polling: "raf" },
  );
  return Date.now() - started;
}

/** The page's current session (what the dashboard keeps in localStorage). */
export async function tokensOf(page: Page): Promise<{ access_token: string }> {
  const text = await page.evaluate(
    () => (globalThis as any).localStorage.getItem("warren.tokens") as string | null,
  );
  if (!text) throw new Error("the page is not signed in");
  return JSON.parse(text);
}

export async function signUp(page: Page, base: string, username: string, password: string): Promise<void> {
  if (!page.url().includes("/signup/")) await page.goto(`${base}/signup/`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign up" }).click();
}

/** Every URL, header and body a page sends (HTTP and WebSocket), for "never sent" checks. */
export function recordTraffic(page: Page): string[] {
  const sent: string[] = [];
  page.on("request", (req) => {
    sent.push(req.url(), JSON.stringify(req.headers()), req.postData() ?? "");
  });
  page.on("websocket", (ws) => {
    sent.push(ws.url());
    ws.on("framesent", (f) =>
      sent.push(typeof f.payload === "string" ? f.payload : f.payload.toString("latin1")),
    );
  });
  return sent;
}
