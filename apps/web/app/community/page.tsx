"use client";
import type { Network, Tenant } from "@warren/protocol";
import { useCallback, useState } from "react";
import { Audit } from "../../components/audit";
import { Chat } from "../../components/chat";
import { Invites } from "../../components/invites";
import { Members } from "../../components/members";
import { Networks } from "../../components/networks";
import { RequireAuth } from "../../components/require-auth";
import { Badge, Button, ErrorText } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useParam } from "../../lib/navigate";
import { may } from "../../lib/policy";
import { useSession } from "../../lib/session";
import { useHub } from "../../lib/use-hub";
import { useLoad } from "../../lib/use-load";

function Community({ id }: { id: string }) {
  const { client, me, fail } = useSession();
  const { t, formatNumber } = useI18n();
  const [tenant, setTenant] = useState<Tenant>();
  const [networks, setNetworks] = useState<Network[]>([]);
  const [lost, setLost] = useState<string>();
  const [error, setError] = useState<string>();

  const load = useCallback(async () => {
    try {
      const got = await client.tenants.get(id);
      setTenant(got);
      if (got.role) setNetworks((await client.networks.list(id)).networks);
    } catch (err) {
      setError(fail(err));
    }
  }, [client, id, fail]);
  useLoad(load);

  // Removed, banned or the community deleted: the page drops it at once.
  useHub("member.removed", (f) => {
    if (f.tenant_id === id && f.network_id === null && f.user_id === me?.id) {
      setLost(
        f.reason === "banned"
          ? t("community.banned")
          : f.reason === "kicked"
            ? t("community.kicked")
            : t("community.left"),
      );
      setTenant(undefined);
      setNetworks([]);
    }
  });
  useHub("tenant.deleted", (f) => {
    if (f.tenant_id === id) {
      setLost(t("community.deleted"));
      setTenant(undefined);
    }
  });
  useHub("member.joined", (f) => {
    if (f.tenant_id === id)
      setTenant((c) => (c && f.network_id === null ? { ...c, member_count: c.member_count + 1 } : c));
  });
  useHub("member.updated", (f) => {
    if (f.tenant_id === id && f.user_id === me?.id) void load();
  });
  useHub("network.updated", (f) => {
    if (f.tenant_id === id) void load();
  });
  useHub("network.deleted", (f) => {
    if (f.tenant_id === id) setNetworks((list) => list.filter((n) => n.id !== f.network_id));
  });

  async function leave() {
    try {
      await client.tenants.leave(id);
      window.location.assign("/");
    } catch (err) {
      setError(fail(err));
    }
  }

  async function remove() {
    if (!tenant || !window.confirm(t("community.deleteConfirm", { name: tenant.name }))) return;
    try {
      await client.tenants.remove(id);
      window.location.assign("/");
    } catch (err) {
      setError(fail(err));
    }
  }

  if (lost) {
    return (
      <div
        role="alert"
        data-testid="community-lost"
        className="rounded border border-amber-300 bg-amber-50 p-4"
      >
        <p className="font-semibold">{lost}</p>
        <a className="text-indigo-800 underline" href="/">
          {t("community.backHome")}
        </a>
      </div>
    );
  }
  if (!tenant) return error ? <ErrorText message={error} /> : <p>{t("common.loading")}</p>;
  const role = tenant.role;
  return (
    <>
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold" data-testid="community-name">
          {tenant.name}
        </h1>
        {role ? <Badge>{t(`role.${role}`)}</Badge> : null}
        <span className="text-sm text-slate-700">
          {t("home.members", { count: formatNumber(tenant.member_count) })}
        </span>
        <span className="ml-auto flex gap-2">
          {role && role !== "owner" ? (
            <Button variant="secondary" onClick={() => void leave()}>
              {t("community.leave")}
            </Button>
          ) : null}
          {may(role, "delete") ? (
            <Button variant="danger" onClick={() => void remove()}>
              {t("community.delete")}
            </Button>
          ) : null}
        </span>
      </div>
      {tenant.description ? <p>{tenant.description}</p> : null}
      <ErrorText message={error} />
      {role ? (
        <div className="grid gap-4 lg:grid-cols-2">
          <div className="flex flex-col gap-4">
            <Members tenantId={id} myRole={role} />
            <Networks tenantId={id} myRole={role} networks={networks} reload={load} />
          </div>
          <div className="flex flex-col gap-4">
            <Chat kind="tenant" id={id} role={role} />
            {may(role, "invite") ? <Invites tenantId={id} myRole={role} networks={networks} /> : null}
          </div>
          {may(role, "read_audit") ? (
            <div className="lg:col-span-2">
              <Audit tenantId={id} />
            </div>
          ) : null}
        </div>
      ) : (
        <p>{t("community.notMember")}</p>
      )}
    </>
  );
}

export default function CommunityPage() {
  const id = useParam("id");
  const { t } = useI18n();
  return <RequireAuth>{id ? <Community key={id} id={id} /> : <p>{t("common.missingId")}</p>}</RequireAuth>;
}
