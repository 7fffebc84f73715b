"use client";
import type { TenantMember } from "@warren/protocol";
import Link from "next/link";
import { type FormEvent, useCallback, useState } from "react";
import { useI18n } from "../lib/i18n";
import { mayActOn, ROLES, type Role, rank } from "../lib/policy";
import { useSession } from "../lib/session";
import { useHub } from "../lib/use-hub";
import { useLoad } from "../lib/use-load";
import { Badge, Button, Card, ErrorText, Field } from "./ui";

interface Ban {
  user: { id: string; username: string };
  reason: string | null;
  until: string | null;
}

/** A community's members with the actions the viewer's role allows, live. */
export function Members({ tenantId, myRole }: { tenantId: string; myRole: Role | null }) {
  const { client, me, fail } = useSession();
  const { t, formatDate } = useI18n();
  const [members, setMembers] = useState<TenantMember[]>([]);
  const [bans, setBans] = useState<Ban[]>([]);
  const [banning, setBanning] = useState<TenantMember | undefined>();
  const [reason, setReason] = useState("");
  const [hours, setHours] = useState("");
  const [error, setError] = useState<string>();

  const load = useCallback(async () => {
    try {
      setMembers((await client.tenants.members(tenantId, { limit: 100 })).members);
      if (rank(myRole) >= rank("moderator")) {
        setBans((await client.tenants.bans(tenantId)).bans);
      }
    } catch (err) {
      setError(fail(err));
    }
  }, [client, tenantId, myRole, fail]);
  useLoad(load);

  useHub("member.joined", (f) => {
    if (f.tenant_id !== tenantId || f.network_id !== null) return;
    setMembers((list) =>
      list.some((m) => m.user.id === f.user.id)
        ? list
        : [...list, { user: f.user, role: f.role ?? "member", joined_at: new Date().toISOString() }],
    );
  });
  useHub("member.removed", (f) => {
    if (f.tenant_id !== tenantId || f.network_id !== null) return;
    setMembers((list) => list.filter((m) => m.user.id !== f.user_id));
    if (f.reason === "banned") void load();
  });
  useHub("member.updated", (f) => {
    if (f.tenant_id !== tenantId) return;
    setMembers((list) => list.map((m) => (m.user.id === f.user_id ? { ...m, role: f.role } : m)));
  });

  const act = async (run: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await run();
      await load();
    } catch (err) {
      setError(fail(err));
    }
  };

  async function ban(e: FormEvent) {
    e.preventDefault();
    if (!banning) return;
    const seconds = Number(hours) > 0 ? Math.round(Number(hours) * 3600) : undefined;
    await act(() =>
      client.tenants.ban(tenantId, {
        user_id: banning.user.id,
        ...(reason ? { reason } : {}),
        ...(seconds ? { duration_seconds: seconds } : {}),
      } as never),
    );
    setBanning(undefined);
    setReason("");
    setHours("");
  }

  return (
    <Card title={t("members.title")}>
      <ErrorText message={error} />
      <ul className="divide-y divide-slate-200" data-testid="members">
        {members.map((m) => (
          <li key={m.user.id} className="flex flex-wrap items-center gap-2 py-2">
            <span className="font-medium">{m.user.username}</span>
            <Badge>{t(`role.${m.role}`)}</Badge>
            <span className="ml-auto flex flex-wrap items-center gap-2">
              {m.user.id !== me?.id ? (
                <Link
                  className="text-sm text-indigo-800 underline"
                  href={`/messages/?user=${m.user.id}&name=${encodeURIComponent(m.user.username)}`}
                >
                  {t("members.message")}
                </Link>
              ) : null}
              {m.user.id !== me?.id && mayActOn(myRole, m.role, "change_role") ? (
                <select
                  aria-label={t("members.roleFor", { name: m.user.username })}
                  className="rounded border border-slate-500 px-1 py-1 text-sm"
                  value={m.role}
                  onChange={(e) =>
                    void act(() => client.tenants.setRole(tenantId, m.user.id, e.target.value as Role))
                  }
                >
                  {ROLES.filter((r) => r !== "owner" && rank(r) <= rank(myRole)).map((r) => (
                    <option key={r} value={r}>
                      {t(`role.${r}`)}
                    </option>
                  ))}
                </select>
              ) : null}
              {m.user.id !== me?.id && mayActOn(myRole, m.role, "kick") ? (
                <Button
                  variant="secondary"
                  aria-label={t("members.kickName", { name: m.user.username })}
                  onClick={() => void act(() => client.tenants.kick(tenantId, m.user.id))}
                >
                  {t("members.kick")}
                </Button>
              ) : null}
              {m.user.id !== me?.id && mayActOn(myRole, m.role, "ban") ? (
                <Button
                  variant="danger"
                  aria-label={t("members.banName", { name: m.user.username })}
                  onClick={() => setBanning(m)}
                >
                  {t("members.ban")}
                </Button>
              ) : null}
              {myRole === "owner" && m.user.id !== me?.id ? (
                <Button
                  variant="secondary"
                  onClick={() => {
                    if (window.confirm(t("members.transferConfirm", { name: m.user.username }))) {
                      void act(() => client.tenants.transfer(tenantId, m.user.id));
                    }
                  }}
                >
                  {t("members.transfer")}
                </Button>
              ) : null}
            </span>
          </li>
        ))}
      </ul>
      {banning ? (
        <form onSubmit={ban} className="mt-3 grid gap-2 rounded border border-red-300 p-3 sm:grid-cols-3">
          <p className="sm:col-span-3">{t("members.banTitle", { name: banning.user.username })}</p>
          <Field label={t("members.banReason")} value={reason} onChange={(e) => setReason(e.target.value)} />
          <Field
            label={t("members.banHours")}
            hint={t("members.banHoursHint")}
            type="number"
            min="0"
            value={hours}
            onChange={(e) => setHours(e.target.value)}
          />
          <div className="flex items-end gap-2">
            <Button type="submit" variant="danger">
              {t("members.ban")}
            </Button>
            <Button variant="secondary" onClick={() => setBanning(undefined)}>
              {t("common.cancel")}
            </Button>
          </div>
        </form>
      ) : null}
      {bans.length > 0 ? (
        <>
          <h3 className="mt-4 font-semibold">{t("members.bans")}</h3>
          <ul className="divide-y divide-slate-200">
            {bans.map((b) => (
              <li key={b.user.id} className="flex flex-wrap items-center gap-2 py-2 text-sm">
                <span className="font-medium">{b.user.username}</span>
                <span>{b.reason ?? ""}</span>
                <span>
                  {b.until ? t("members.until", { when: formatDate(b.until) }) : t("members.forever")}
                </span>
                <Button
                  variant="secondary"
                  className="ml-auto"
                  onClick={() => void act(() => client.tenants.unban(tenantId, b.user.id))}
                >
                  {t("members.unban")}
                </Button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </Card>
  );
}
