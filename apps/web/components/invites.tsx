"use client";
import type { Network } from "@warren/protocol";
import { type FormEvent, useCallback, useState } from "react";
import { useI18n } from "../lib/i18n";
import type { Role } from "../lib/policy";
import { rank } from "../lib/policy";
import { useSession } from "../lib/session";
import { useLoad } from "../lib/use-load";
import { QrCode } from "./qr";
import { Badge, Button, Card, ErrorText, Field, Select } from "./ui";

interface Invite {
  id: string;
  code: string;
  network_id: string | null;
  role: Role;
  max_uses: number | null;
  uses: number;
  expires_at: string | null;
  revoked_at: string | null;
}

export const inviteLink = (code: string) =>
  `${window.location.origin}/invite/?code=${encodeURIComponent(code)}`;

/** Invite links of a community: make one (expiry, uses, role, network), copy, show as QR, revoke. */
export function Invites({
  tenantId,
  myRole,
  networks,
}: {
  tenantId: string;
  myRole: Role | null;
  networks: Network[];
}) {
  const { client, fail } = useSession();
  const { t, formatDate } = useI18n();
  const [invites, setInvites] = useState<Invite[]>([]);
  const [hours, setHours] = useState("168");
  const [uses, setUses] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [network, setNetwork] = useState("");
  const [shown, setShown] = useState<string | undefined>();
  const [copied, setCopied] = useState<string | undefined>();
  const [error, setError] = useState<string>();

  const load = useCallback(async () => {
    try {
      setInvites((await client.invites.list(tenantId)).invites as Invite[]);
    } catch (err) {
      setError(fail(err));
    }
  }, [client, tenantId, fail]);
  useLoad(load);

  async function create(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      const made = await client.invites.create(tenantId, {
        role: role as "member",
        ...(Number(hours) > 0 ? { expires_in_seconds: Math.round(Number(hours) * 3600) } : {}),
        ...(Number(uses) > 0 ? { max_uses: Number(uses) } : {}),
        ...(network ? { network_id: network } : {}),
      });
      setShown(made.code);
      await load();
    } catch (err) {
      setError(fail(err));
    }
  }

  async function copy(code: string) {
    try {
      await navigator.clipboard.writeText(inviteLink(code));
      setCopied(code);
    } catch {
      setCopied(undefined);
    }
  }

  return (
    <Card title={t("invites.title")}>
      <form onSubmit={create} className="mb-4 grid gap-3 sm:grid-cols-4">
        <Field
          label={t("invites.hours")}
          type="number"
          min="0"
          value={hours}
          onChange={(e) => setHours(e.target.value)}
        />
        <Field
          label={t("invites.uses")}
          hint={t("invites.usesHint")}
          type="number"
          min="0"
          value={uses}
          onChange={(e) => setUses(e.target.value)}
        />
        <Select label={t("invites.role")} value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {(["member", "moderator", "admin"] as Role[])
            .filter((r) => rank(r) <= rank(myRole))
            .map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}`)}
              </option>
            ))}
        </Select>
        <Select label={t("invites.network")} value={network} onChange={(e) => setNetwork(e.target.value)}>
          <option value="">{t("invites.noNetwork")}</option>
          {networks.map((n) => (
            <option key={n.id} value={n.id}>
              {n.name}
            </option>
          ))}
        </Select>
        <div className="sm:col-span-4">
          <ErrorText message={error} />
          <Button type="submit">{t("invites.create")}</Button>
        </div>
      </form>
      {shown ? (
        <div className="mb-4 flex flex-wrap items-start gap-4 rounded border border-indigo-300 bg-indigo-50 p-3">
          <QrCode value={inviteLink(shown)} label={t("invites.qr")} size={160} />
          <div className="flex min-w-0 flex-col gap-2">
            <p className="text-sm">{t("invites.share")}</p>
            <code className="break-all rounded bg-white px-2 py-1 text-sm" data-testid="invite-link">
              {inviteLink(shown)}
            </code>
          </div>
        </div>
      ) : null}
      <ul className="divide-y divide-slate-200">
        {invites.map((i) => (
          <li key={i.id} className="flex flex-wrap items-center gap-2 py-2 text-sm">
            <code className="break-all">{i.code}</code>
            <Badge>{t(`role.${i.role}`)}</Badge>
            <span>{t("invites.used", { uses: i.uses, max: i.max_uses ?? "∞" })}</span>
            <span>
              {i.expires_at
                ? t("invites.expires", { when: formatDate(i.expires_at) })
                : t("invites.noExpiry")}
            </span>
            {i.revoked_at ? <Badge tone="amber">{t("invites.revoked")}</Badge> : null}
            <span className="ml-auto flex gap-2">
              <Button variant="secondary" onClick={() => setShown(i.code)}>
                {t("invites.show")}
              </Button>
              <Button variant="secondary" onClick={() => void copy(i.code)}>
                {copied === i.code ? t("invites.copied") : t("invites.copy")}
              </Button>
              {!i.revoked_at ? (
                <Button
                  variant="danger"
                  onClick={() =>
                    void client.invites
                      .revoke(tenantId, i.id)
                      .then(load)
                      .catch((err) => setError(fail(err)))
                  }
                >
                  {t("invites.revoke")}
                </Button>
              ) : null}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
