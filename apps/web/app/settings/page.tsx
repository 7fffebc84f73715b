"use client";
import type { PublicKeyRecord, SessionInfo, Static } from "@warren/protocol";
import type { TotpSetup } from "@warren/sdk";
import { type FormEvent, useCallback, useState } from "react";
import { useFreshProof } from "../../components/proof";
import { QrCode } from "../../components/qr";
import { RequireAuth } from "../../components/require-auth";
import { Badge, Button, Card, ErrorText, Field } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useSession } from "../../lib/session";
import { useLoad } from "../../lib/use-load";

function Totp() {
  const { client, me, fail, refreshMe } = useSession();
  const { t } = useI18n();
  const [setup, setSetup] = useState<TotpSetup>();
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState<string[]>();
  const [error, setError] = useState<string>();
  const onError = useCallback((err: unknown) => setError(fail(err)), [fail]);
  const proof = useFreshProof(onError);
  const run = async (fn: () => Promise<void>) => {
    setError(undefined);
    await proof.run(fn);
  };
  const confirm = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      setRecovery((await client.account.confirmTotp(code)).recovery_codes);
      setSetup(undefined);
      setCode("");
      await refreshMe();
    });
  };
  const disable = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await client.account.disableTotp(code);
      setCode("");
      await refreshMe();
    });
  };
  return (
    <Card title={t("settings.totp")}>
      <p className="mb-3">
        {me?.totp_enabled ? (
          <Badge tone="green">{t("settings.totpOn")}</Badge>
        ) : (
          <Badge>{t("settings.totpOff")}</Badge>
        )}
      </p>
      {recovery ? (
        <div className="mb-3 rounded border border-amber-300 bg-amber-50 p-3">
          <p className="mb-2 font-semibold">{t("settings.recovery")}</p>
          <ul className="grid grid-cols-2 gap-1 font-mono text-sm" data-testid="recovery-codes">
            {recovery.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {!me?.totp_enabled && !setup ? (
        <Button onClick={() => void run(async () => setSetup(await client.account.startTotp()))}>
          {t("settings.totpStart")}
        </Button>
      ) : null}
      {setup ? (
        <form onSubmit={confirm} className="flex flex-col gap-3">
          <p>{t("settings.totpScan")}</p>
          <QrCode value={setup.otpauth_url} label={t("settings.totpQr")} size={200} />
          <p className="text-sm">
            {t("settings.totpSecret")}{" "}
            <code className="break-all" data-testid="totp-secret">
              {setup.secret}
            </code>
          </p>
          <Field
            label={t("settings.totpCode")}
            autoComplete="one-time-code"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
          <Button type="submit">{t("settings.totpConfirm")}</Button>
        </form>
      ) : null}
      {me?.totp_enabled ? (
        <form onSubmit={disable} className="flex flex-col gap-3">
          <Field
            label={t("settings.totpCodeOrRecovery")}
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
          <Button type="submit" variant="danger">
            {t("settings.totpDisable")}
          </Button>
        </form>
      ) : null}
      {proof.prompt}
      <ErrorText message={error} />
    </Card>
  );
}

function Keys() {
  const { client, fail } = useSession();
  const { t, formatDate } = useI18n();
  const [keys, setKeys] = useState<PublicKeyRecord[]>([]);
  const [publicKey, setPublicKey] = useState("");
  const [label, setLabel] = useState("");
  const [error, setError] = useState<string>();
  const load = useCallback(async () => {
    try {
      setKeys((await client.account.keys()).keys);
    } catch (err) {
      setError(fail(err));
    }
  }, [client, fail]);
  useLoad(load);
  const onError = useCallback((err: unknown) => setError(fail(err)), [fail]);
  const proof = useFreshProof(onError);
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    await proof.run(async () => {
      await fn();
      await load();
    });
  };
  return (
    <Card title={t("settings.keys")}>
      <ul className="mb-3 divide-y divide-slate-200">
        {keys.map((k) => (
          <li key={k.id} className="flex flex-wrap items-center gap-2 py-2 text-sm">
            <Badge>{k.kind}</Badge>
            <span>{k.label ?? "—"}</span>
            {k.device ? (
              <span className="text-slate-700">{t("settings.keyDevice", { device: k.device })}</span>
            ) : null}
            <code className="break-all text-xs">{k.public_key}</code>
            <span className="text-slate-700">{formatDate(k.created_at)}</span>
            <Button
              variant="secondary"
              className="ml-auto"
              onClick={() => void act(() => client.account.removeKey(k.id))}
            >
              {t("settings.keyRemove")}
            </Button>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void act(() =>
            client.account.addKey({ kind: "ed25519", public_key: publicKey, ...(label ? { label } : {}) }),
          ).then(() => {
            setPublicKey("");
            setLabel("");
          });
        }}
        className="grid gap-3 sm:grid-cols-3"
      >
        <Field
          label={t("settings.keyPublic")}
          hint={t("settings.keyHint")}
          required
          value={publicKey}
          onChange={(e) => setPublicKey(e.target.value)}
        />
        <Field label={t("settings.keyLabel")} value={label} onChange={(e) => setLabel(e.target.value)} />
        <div className="flex items-end">
          <Button type="submit">{t("settings.keyAdd")}</Button>
        </div>
      </form>
      {proof.prompt}
      <ErrorText message={error} />
    </Card>
  );
}

type Session = Static<typeof SessionInfo>;

function Sessions() {
  const { client, fail } = useSession();
  const { t, formatRelative } = useI18n();
  const [sessions, setSessions] = useState<Session[]>([]);
  const [error, setError] = useState<string>();
  const load = useCallback(async () => {
    try {
      setSessions(await client.auth.sessions());
    } catch (err) {
      setError(fail(err));
    }
  }, [client, fail]);
  useLoad(load);
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      await load();
    } catch (err) {
      setError(fail(err));
    }
  };
  return (
    <Card
      title={t("settings.sessions")}
      actions={
        sessions.length > 1 ? (
          <Button variant="secondary" onClick={() => void act(() => client.auth.revokeOtherSessions())}>
            {t("settings.sessionsRevokeOthers")}
          </Button>
        ) : null
      }
    >
      <ul className="divide-y divide-slate-200" data-testid="sessions">
        {sessions.map((s) => (
          <li key={s.id} className="flex flex-wrap items-center gap-2 py-2 text-sm">
            <span className="font-medium">
              {s.user_agent ? s.user_agent.slice(0, 60) : t("settings.sessionUnknown")}
            </span>
            <Badge>{s.method === "key" ? t("settings.sessionKey") : t("settings.sessionPassword")}</Badge>
            {s.current ? <Badge tone="green">{t("settings.sessionCurrent")}</Badge> : null}
            <span className="text-slate-700">
              {t("settings.sessionActive", { when: formatRelative(s.refreshed_at) })}
            </span>
            {!s.current ? (
              <Button
                variant="secondary"
                className="ml-auto"
                onClick={() => void act(() => client.auth.revokeSession(s.id))}
              >
                {t("settings.sessionRevoke")}
              </Button>
            ) : null}
          </li>
        ))}
      </ul>
      <ErrorText message={error} />
    </Card>
  );
}

function ChangePassword() {
  const { client, me, fail } = useSession();
  const { t } = useI18n();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [totp, setTotp] = useState("");
  const [done, setDone] = useState<string>();
  const [error, setError] = useState<string>();
  const onError = useCallback((err: unknown) => setError(fail(err)), [fail]);
  const proof = useFreshProof(onError);
  function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    void proof.run(async () => {
      const result = await client.auth.changePassword({
        ...(me?.has_password ? { current_password: current } : {}),
        ...(me?.totp_enabled && totp ? { totp } : {}),
        new_password: next,
      });
      setDone(t("settings.passwordChanged", { n: result.revoked_sessions }));
      setCurrent("");
      setNext("");
      setTotp("");
    });
  }
  return (
    <Card title={t("settings.password")}>
      <form onSubmit={submit} className="flex flex-col gap-3">
        {me?.has_password ? (
          <Field
            label={t("settings.passwordCurrent")}
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        ) : null}
        {me?.totp_enabled ? (
          <Field label={t("signin.totp")} value={totp} onChange={(e) => setTotp(e.target.value)} />
        ) : null}
        <Field
          label={t("settings.passwordNew")}
          hint={t("signup.passwordHint")}
          type="password"
          autoComplete="new-password"
          required
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        <Button type="submit">{t("settings.passwordSubmit")}</Button>
      </form>
      {proof.prompt}
      {done ? (
        <p role="status" className="mt-2 text-sm text-green-900">
          {done}
        </p>
      ) : null}
      <ErrorText message={error} />
    </Card>
  );
}

function DataRights() {
  const { client, me, fail } = useSession();
  const { t } = useI18n();
  const [password, setPassword] = useState("");
  const [sure, setSure] = useState(false);
  const [error, setError] = useState<string>();
  async function exportData() {
    setError(undefined);
    try {
      const data = await client.me.export();
      const url = URL.createObjectURL(
        new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }),
      );
      const a = document.createElement("a");
      a.href = url;
      a.download = `warren-${me?.username ?? "me"}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(fail(err));
    }
  }
  async function remove(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      await client.me.remove(me?.has_password ? { password } : { confirm: "delete my account" });
      window.localStorage.clear();
      window.location.assign("/signup/");
    } catch (err) {
      setError(fail(err));
    }
  }
  return (
    <Card title={t("settings.data")}>
      <Button variant="secondary" onClick={() => void exportData()}>
        {t("settings.export")}
      </Button>
      <form onSubmit={remove} className="mt-4 flex flex-col gap-3 border-t border-slate-200 pt-4">
        <h3 className="font-semibold text-red-900">{t("settings.delete")}</h3>
        <p className="text-sm">{t("settings.deleteText")}</p>
        {me?.has_password ? (
          <Field
            label={t("auth.password")}
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        ) : null}
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={sure} onChange={(e) => setSure(e.target.checked)} />
          {t("settings.deleteSure")}
        </label>
        <Button type="submit" variant="danger" disabled={!sure}>
          {t("settings.deleteSubmit")}
        </Button>
      </form>
      <ErrorText message={error} />
    </Card>
  );
}

export default function SettingsPage() {
  const { t } = useI18n();
  return (
    <RequireAuth>
      <h1 className="text-2xl font-bold">{t("settings.title")}</h1>
      <div className="grid gap-4 lg:grid-cols-2">
        <Totp />
        <ChangePassword />
        <Sessions />
        <Keys />
        <DataRights />
      </div>
    </RequireAuth>
  );
}
