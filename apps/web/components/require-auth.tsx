"use client";
import { type ReactNode, useEffect } from "react";
import { useI18n } from "../lib/i18n";
import { signInPath, useSession } from "../lib/session";

/** Shows children to a signed-in user; anyone else goes to sign in, and comes back here after. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { me, loadError, refreshMe } = useSession();
  const { t } = useI18n();
  useEffect(() => {
    if (me === null) window.location.replace(signInPath());
  }, [me]);
  if (loadError) {
    return (
      <div role="alert" className="rounded border border-red-300 bg-red-50 p-4">
        <p className="mb-2">{loadError}</p>
        <button
          type="button"
          className="rounded border border-slate-400 bg-white px-3 py-1"
          onClick={() => void refreshMe()}
        >
          {t("common.retry")}
        </button>
      </div>
    );
  }
  if (!me) return <p className="p-4 text-slate-700">{t("common.loading")}</p>;
  return <>{children}</>;
}
