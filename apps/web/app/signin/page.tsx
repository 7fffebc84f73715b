"use client";
import { WarrenError } from "@warren/sdk";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { Button, Card, ErrorText, Field } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useNextPath } from "../../lib/navigate";
import { useSession } from "../../lib/session";

export default function SignInPage() {
  const { client } = useSession();
  const { t } = useI18n();
  const next = useNextPath();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await client.auth.login({ username, password, ...(needTotp ? { totp } : {}) });
      window.location.assign(next);
    } catch (err) {
      if (err instanceof WarrenError && err.code === "totp_required") setNeedTotp(true);
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="mx-auto w-full max-w-md">
      <h1 className="mb-4 text-2xl font-bold">{t("signin.title")}</h1>
      <Card title={t("signin.card")}>
        <form onSubmit={submit} className="flex flex-col gap-3">
          <Field
            label={t("auth.username")}
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
          <Field
            label={t("auth.password")}
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {needTotp ? (
            <Field
              label={t("signin.totp")}
              hint={t("signin.totpHint")}
              name="totp"
              autoComplete="one-time-code"
              inputMode="text"
              required
              autoFocus
              value={totp}
              onChange={(e) => setTotp(e.target.value)}
            />
          ) : null}
          <ErrorText message={error} />
          <Button type="submit" disabled={busy}>
            {t("signin.submit")}
          </Button>
        </form>
      </Card>
      <p className="mt-4 text-sm">
        {t("signin.noAccount")}{" "}
        <Link className="text-indigo-800 underline" href={`/signup/?next=${encodeURIComponent(next)}`}>
          {t("signup.title")}
        </Link>
      </p>
    </div>
  );
}
