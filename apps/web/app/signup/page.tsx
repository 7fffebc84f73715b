"use client";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { Button, Card, ErrorText, Field } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useNextPath } from "../../lib/navigate";
import { useSession } from "../../lib/session";

export default function SignUpPage() {
  const { client } = useSession();
  const { t } = useI18n();
  const next = useNextPath();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [email, setEmail] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await client.auth.register({ username, password, ...(email ? { email } : {}) });
      window.location.assign(next);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="mx-auto w-full max-w-md">
      <h1 className="mb-4 text-2xl font-bold">{t("signup.title")}</h1>
      <Card title={t("signup.card")}>
        <form onSubmit={submit} className="flex flex-col gap-3">
          <Field
            label={t("auth.username")}
            hint={t("signup.usernameHint")}
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
          <Field
            label={t("auth.password")}
            hint={t("signup.passwordHint")}
            name="password"
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <Field
            label={t("signup.email")}
            name="email"
            type="email"
            autoComplete="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <ErrorText message={error} />
          <Button type="submit" disabled={busy}>
            {t("signup.submit")}
          </Button>
        </form>
      </Card>
      <p className="mt-4 text-sm">
        {t("signup.haveAccount")}{" "}
        <Link className="text-indigo-800 underline" href={`/signin/?next=${encodeURIComponent(next)}`}>
          {t("signin.title")}
        </Link>
      </p>
    </div>
  );
}
