"use client";
import { type ReactNode, useEffect } from "react";
import { useI18n } from "../lib/i18n";
import { signInPath, useSession } from "../lib/session";

/** Shows children to a signed-in user; anyone else goes to sign in, and comes back here after. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { me } = useSession();
  const { t } = useI18n();
  useEffect(() => {
    if (me === null) window.location.replace(signInPath());
  }, [me]);
  if (!me) return <p className="p-4 text-slate-700">{t("common.loading")}</p>;
  return <>{children}</>;
}
