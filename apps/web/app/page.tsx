"use client";
import type { Tenant } from "@warren/protocol";
import Link from "next/link";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { RequireAuth } from "../components/require-auth";
import { Badge, Button, Card, ErrorText, Field, Select } from "../components/ui";
import { useI18n } from "../lib/i18n";
import { useSession } from "../lib/session";
import { useHub } from "../lib/use-hub";
import { useLoad } from "../lib/use-load";

function CreateCommunity({ onCreated }: { onCreated: (t: Tenant) => void }) {
  const { client, fail } = useSession();
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [visibility, setVisibility] = useState<"private" | "public">("private");
  const [access, setAccess] = useState<"invite_only" | "open" | "password">("invite_only");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      const created = await client.tenants.create({
        name,
        visibility,
        access,
        ...(access === "password" ? { password } : {}),
      });
      setName("");
      onCreated(created);
    } catch (err) {
      setError(fail(err));
    }
  }
  return (
    <Card title={t("home.create")}>
      <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2">
        <Field
          label={t("home.name")}
          name="community-name"
          required
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <Select
          label={t("home.visibility")}
          value={visibility}
          onChange={(e) => setVisibility(e.target.value as never)}
        >
          <option value="private">{t("home.private")}</option>
          <option value="public">{t("home.public")}</option>
        </Select>
        <Select label={t("home.access")} value={access} onChange={(e) => setAccess(e.target.value as never)}>
          <option value="invite_only">{t("home.inviteOnly")}</option>
          <option value="open">{t("home.open")}</option>
          <option value="password">{t("home.passwordAccess")}</option>
        </Select>
        {access === "password" ? (
          <Field
            label={t("auth.password")}
            type="password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        ) : null}
        <div className="sm:col-span-2">
          <ErrorText message={error} />
          <Button type="submit">{t("home.createSubmit")}</Button>
        </div>
      </form>
    </Card>
  );
}

function Discover({ onJoined }: { onJoined: () => void }) {
  const { client, fail } = useSession();
  const { t, formatNumber } = useI18n();
  const [q, setQ] = useState("");
  const [found, setFound] = useState<Tenant[]>([]);
  const [passwords, setPasswords] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const search = useCallback(
    async (text: string) => {
      try {
        setFound((await client.tenants.list({ discover: true, ...(text ? { q: text } : {}) })).tenants);
      } catch (err) {
        setError(fail(err));
      }
    },
    [client, fail],
  );
  useEffect(() => {
    void search("");
  }, [search]);
  async function join(tenant: Tenant) {
    setError(undefined);
    try {
      const pw = passwords[tenant.id];
      await client.tenants.join(tenant.id, tenant.access === "password" ? { password: pw ?? "" } : {});
      onJoined();
      window.location.assign(`/community/?id=${tenant.id}`);
    } catch (err) {
      setError(fail(err));
    }
  }
  return (
    <Card title={t("home.discover")}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void search(q);
        }}
        className="mb-3 flex items-end gap-2"
      >
        <Field label={t("home.search")} type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        <Button type="submit" variant="secondary">
          {t("home.searchSubmit")}
        </Button>
      </form>
      <ErrorText message={error} />
      {found.length === 0 ? <p className="text-sm text-slate-700">{t("home.noneFound")}</p> : null}
      <ul className="divide-y divide-slate-200">
        {found.map((tenant) => (
          <li key={tenant.id} className="flex flex-wrap items-center gap-2 py-2">
            <span className="font-medium">{tenant.name}</span>
            <span className="text-sm text-slate-700">
              {t("home.members", { count: formatNumber(tenant.member_count) })}
            </span>
            <span className="ml-auto flex items-center gap-2">
              {tenant.role ? (
                <Link className="text-indigo-800 underline" href={`/community/?id=${tenant.id}`}>
                  {t("home.open")}
                </Link>
              ) : tenant.access === "invite_only" ? (
                <Badge>{t("home.inviteOnly")}</Badge>
              ) : (
                <>
                  {tenant.access === "password" ? (
                    <input
                      aria-label={t("home.passwordFor", { name: tenant.name })}
                      type="password"
                      className="rounded border border-slate-500 px-2 py-1 text-sm"
                      value={passwords[tenant.id] ?? ""}
                      onChange={(e) => setPasswords({ ...passwords, [tenant.id]: e.target.value })}
                    />
                  ) : null}
                  <Button variant="secondary" onClick={() => void join(tenant)}>
                    {t("home.join")}
                  </Button>
                </>
              )}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}

function Home() {
  const { client, fail } = useSession();
  const { t } = useI18n();
  const [mine, setMine] = useState<Tenant[] | undefined>(undefined);
  const [error, setError] = useState<string>();
  const load = useCallback(async () => {
    try {
      setMine((await client.tenants.list()).tenants);
    } catch (err) {
      setError(fail(err));
    }
  }, [client, fail]);
  useLoad(load);
  useHub("member.removed", () => void load());
  useHub("tenant.deleted", () => void load());
  useHub("member.joined", () => void load());
  return (
    <>
      <h1 className="text-2xl font-bold">{t("home.title")}</h1>
      <Card title={t("home.mine")}>
        <ErrorText message={error} />
        {mine === undefined ? <p>{t("common.loading")}</p> : null}
        {mine?.length === 0 ? <p className="text-sm text-slate-700">{t("home.empty")}</p> : null}
        <ul className="divide-y divide-slate-200" data-testid="my-communities">
          {mine?.map((tenant) => (
            <li key={tenant.id} className="flex items-center gap-2 py-2">
              <Link className="font-medium text-indigo-800 underline" href={`/community/?id=${tenant.id}`}>
                {tenant.name}
              </Link>
              {tenant.role ? <Badge>{t(`role.${tenant.role}`)}</Badge> : null}
            </li>
          ))}
        </ul>
      </Card>
      <CreateCommunity onCreated={(c) => window.location.assign(`/community/?id=${c.id}`)} />
      <Discover onJoined={() => void load()} />
    </>
  );
}

export default function HomePage() {
  return (
    <RequireAuth>
      <Home />
    </RequireAuth>
  );
}
