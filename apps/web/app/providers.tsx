"use client";
import { type ReactNode, Suspense } from "react";
import { Shell } from "../components/shell";
import { DirectProvider } from "../lib/direct";
import { I18nProvider } from "../lib/i18n";
import { SessionProvider } from "../lib/session";

export function Providers({ children }: { children: ReactNode }) {
  return (
    <I18nProvider>
      <SessionProvider>
        <DirectProvider>
          <Shell>
            <Suspense>{children}</Suspense>
          </Shell>
        </DirectProvider>
      </SessionProvider>
    </I18nProvider>
  );
}
