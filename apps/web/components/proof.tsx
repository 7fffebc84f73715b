"use client";
import { WarrenError } from "@warren/sdk";
import { type FormEvent, type ReactNode, useCallback, useState } from "react";
import { useI18n } from "../lib/i18n";
import { useSession } from "../lib/session";
import { Button, ErrorText, Field } from "./ui";

/** Asks for the password (and a TOTP code when two-factor is on) and proves the session fresh. */
export function ProofForm({ onProved, onCancel }: { onProved: () => void; onCancel?: () => void }) {
  const { client, me, fail } = useSession();
  const { t } = useI18n();
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [error, setError] = useState<string>();
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      await client.auth.reauthenticate(password, me?.totp_enabled && totp ? totp : undefined);
      setPassword("");
      setTotp("");
      onProved();
    } catch (err) {
      setError(fail(err));
    }
  }
  return (
    <form
      onSubmit={submit}
      className="flex flex-col gap-3 rounded border border-indigo-300 bg-indigo-50 p-3"
      data-testid="proof"
    >
      <p className="text-sm">{t("proof.text")}</p>
      <Field
        label={t("proof.password")}
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      {me?.totp_enabled ? (
        <Field
          label={t("signin.totp")}
          autoComplete="one-time-code"
          value={totp}
          onChange={(e) => setTotp(e.target.value)}
        />
      ) : null}
      <ErrorText message={error} />
      <div className="flex gap-2">
        <Button type="submit">{t("proof.submit")}</Button>
        {onCancel ? (
          <Button variant="secondary" onClick={onCancel}>
            {t("common.cancel")}
          </Button>
        ) : null}
      </div>
    </form>
  );
}

/**
 * Runs a credential change; when the server answers reauthentication_required it shows
 * the proof form and runs the change again once the session is proved fresh. Any other
 * failure goes to onError.
 */
export function useFreshProof(onError: (err: unknown) => void): {
  run: (fn: () => Promise<void>) => Promise<void>;
  prompt: ReactNode;
} {
  const [retry, setRetry] = useState<(() => Promise<void>) | undefined>();
  const run = useCallback(
    async (fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        if (err instanceof WarrenError && err.code === "reauthentication_required") setRetry(() => fn);
        else onError(err);
      }
    },
    [onError],
  );
  const prompt = retry ? (
    <ProofForm
      onCancel={() => setRetry(undefined)}
      onProved={() => {
        const fn = retry;
        setRetry(undefined);
        void fn().catch(onError);
      }}
    />
  ) : null;
  return { run, prompt };
}
