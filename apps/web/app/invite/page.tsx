"use client";
import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import { Button, Card, ErrorText } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useParam } from "../../lib/navigate";
import { useSession } from "../../lib/session";

/**
 * An invite link. A visitor who is not signed in signs up (or in) and comes back here
 * with accept=1, which joins at once and lands in the community.
 */
export default function InvitePage() {
  const { client, me, fail } = useSession();
  const { t } = useI18n();
  const code = useParam("code");
  const auto = useParam("accept") === "1";
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const tried = useRef(false);

  const accept = useCallback(async () => {
    if (!code) return;
    setBusy(true);
    setError(undefined);
    try {
      const joined = await client.invites.accept(code);
      window.location.assign(`/community/?id=${joined.tenant.id}`);
    } catch (err) {
      setError(fail(err));
      setBusy(false);
    }
  }, [client, code, fail]);

  useEffect(() => {
    if (me && auto && !tried.current) {
      tried.current = true;
      void accept();
    }
  }, [me, auto, accept]);

  if (!code) return <p>{t("common.missingId")}</p>;
  const back = encodeURIComponent(`/invite/?code=${encodeURIComponent(code)}&accept=1`);
  return (
    <div className="mx-auto w-full max-w-md">
      <h1 className="mb-4 text-2xl font-bold">{t("invite.title")}</h1>
      <Card title={t("invite.card")}>
        <p className="mb-3">{t("invite.text")}</p>
        <ErrorText message={error} />
        {me === undefined ? <p>{t("common.loading")}</p> : null}
        {me ? (
          <Button onClick={() => void accept()} disabled={busy}>
            {t("invite.accept")}
          </Button>
        ) : null}
        {me === null ? (
          <div className="flex flex-wrap gap-3">
            <Link
              className="rounded bg-indigo-700 px-3 py-2 text-sm font-medium text-white"
              href={`/signup/?next=${back}`}
            >
              {t("invite.signup")}
            </Link>
            <Link
              className="rounded border border-slate-400 px-3 py-2 text-sm"
              href={`/signin/?next=${back}`}
            >
              {t("invite.signin")}
            </Link>
          </div>
        ) : null}
      </Card>
    </div>
  );
}
