"use client";
import Link from "next/link";
import { type ReactNode, useEffect, useState } from "react";
import { LOCALES, type Locale, useI18n } from "../lib/i18n";
import { useSession } from "../lib/session";

function HubStatus() {
  const { me, hubState } = useSession();
  const { t } = useI18n();
  if (!me) return null;
  const look = {
    online: "bg-green-100 text-green-900",
    connecting: "bg-slate-200 text-slate-900",
    reconnecting: "bg-amber-100 text-amber-900",
    offline: "bg-red-100 text-red-900",
  }[hubState];
  return (
    <span
      role="status"
      data-testid="hub-state"
      data-state={hubState}
      className={`rounded px-2 py-1 text-xs ${look}`}
    >
      {t(`hub.${hubState}`)}
    </span>
  );
}

/** The frame of every page: skip link, navigation, live-connection state, language. */
export function Shell({ children }: { children: ReactNode }) {
  const { client, me, signOut } = useSession();
  const { t, locale, setLocale } = useI18n();
  // The Admin link only for server admins: the analytics answer everyone else forbidden.
  const [admin, setAdmin] = useState(false);
  useEffect(() => {
    if (!me) return;
    client.analytics
      .summary()
      .then(() => setAdmin(true))
      .catch(() => setAdmin(false));
  }, [client, me]);
  return (
    <div className="min-h-screen bg-slate-50 text-slate-900">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2"
      >
        {t("nav.skip")}
      </a>
      <header className="border-b border-slate-300 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3">
          <Link href="/" className="text-lg font-bold text-indigo-800">
            warren
          </Link>
          {me ? (
            <nav aria-label={t("nav.label")} className="flex flex-wrap gap-x-3 gap-y-1 text-sm">
              <Link href="/" className="underline-offset-4 hover:underline">
                {t("nav.communities")}
              </Link>
              <Link href="/devices/" className="underline-offset-4 hover:underline">
                {t("nav.devices")}
              </Link>
              <Link href="/messages/" className="underline-offset-4 hover:underline">
                {t("nav.messages")}
              </Link>
              <Link href="/room/" className="underline-offset-4 hover:underline">
                {t("nav.rooms")}
              </Link>
              <Link href="/settings/" className="underline-offset-4 hover:underline">
                {t("nav.settings")}
              </Link>
              {admin ? (
                <Link href="/admin/" className="underline-offset-4 hover:underline">
                  {t("nav.admin")}
                </Link>
              ) : null}
            </nav>
          ) : null}
          <div className="ml-auto flex flex-wrap items-center gap-2">
            <HubStatus />
            <label className="sr-only" htmlFor="locale">
              {t("nav.language")}
            </label>
            <select
              id="locale"
              value={locale}
              onChange={(e) => setLocale(e.target.value as Locale)}
              className="rounded border border-slate-500 bg-white px-1 py-1 text-sm"
            >
              {LOCALES.map((l) => (
                <option key={l} value={l}>
                  {l === "en" ? "English" : "Deutsch"}
                </option>
              ))}
            </select>
            {me ? (
              <>
                <span className="text-sm text-slate-700" data-testid="me">
                  {me.username}
                </span>
                <button
                  type="button"
                  onClick={() => void signOut()}
                  className="rounded border border-slate-400 px-2 py-1 text-sm hover:bg-slate-100"
                >
                  {t("nav.signOut")}
                </button>
              </>
            ) : null}
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto flex max-w-6xl flex-col gap-4 px-4 py-6">
        {children}
      </main>
    </div>
  );
}
