"use client";
import type { Network } from "@warren/protocol";
import { WarrenError } from "@warren/sdk";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { useI18n } from "../lib/i18n";
import { may, type Role } from "../lib/policy";
import { useSession } from "../lib/session";
import { Badge, Button, Card, ErrorText, Field, Select } from "./ui";

/** Codes that are about the range: shown on the CIDR field itself. */
const CIDR_CODES = new Set([
  "cidr_overlap",
  "cidr_conflict",
  "network_full",
  "invalid_request",
  "network_in_use",
]);

export function Networks({
  tenantId,
  myRole,
  networks,
  reload,
}: {
  tenantId: string;
  myRole: Role | null;
  networks: Network[];
  reload: () => Promise<void>;
}) {
  const { client, fail } = useSession();
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [cidr, setCidr] = useState("10.42.0.0/24");
  const [policy, setPolicy] = useState<"open" | "approval" | "invite">("open");
  const [visibility, setVisibility] = useState<"public" | "private">("public");
  const [cidrError, setCidrError] = useState<string>();
  const [error, setError] = useState<string>();

  async function create(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    setCidrError(undefined);
    try {
      await client.networks.create(tenantId, { name, cidr, join_policy: policy, visibility });
      setName("");
      await reload();
    } catch (err) {
      const message = fail(err);
      if (
        err instanceof WarrenError &&
        CIDR_CODES.has(err.code) &&
        (err.code !== "invalid_request" || /cidr|range/i.test(message))
      )
        setCidrError(`${message} (${err.code})`);
      else setError(message);
    }
  }

  async function join(n: Network) {
    setError(undefined);
    try {
      await client.networks.join(n.id);
      await reload();
    } catch (err) {
      setError(fail(err));
    }
  }

  return (
    <Card title={t("networks.title")}>
      <ErrorText message={error} />
      {networks.length === 0 ? <p className="text-sm text-slate-700">{t("networks.empty")}</p> : null}
      <ul className="divide-y divide-slate-200" data-testid="networks">
        {networks.map((n) => (
          <li key={n.id} className="flex flex-wrap items-center gap-2 py-2">
            <Link className="font-medium text-indigo-800 underline" href={`/network/?id=${n.id}`}>
              {n.name}
            </Link>
            <code className="text-sm">{n.cidr}</code>
            <Badge>{t(`policy.${n.join_policy}`)}</Badge>
            {n.my_status === "active" ? <Badge tone="green">{t("networks.joined")}</Badge> : null}
            {n.my_status === "pending" ? <Badge tone="amber">{t("networks.pending")}</Badge> : null}
            {n.my_status === null && n.join_policy !== "invite" ? (
              <Button variant="secondary" className="ml-auto" onClick={() => void join(n)}>
                {n.join_policy === "approval" ? t("networks.request") : t("networks.join")}
              </Button>
            ) : null}
          </li>
        ))}
      </ul>
      {may(myRole, "create_network") ? (
        <form onSubmit={create} className="mt-4 grid gap-3 border-t border-slate-200 pt-4 sm:grid-cols-3">
          <Field
            label={t("networks.name")}
            name="network-name"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <Field
            label={t("networks.cidr")}
            name="cidr"
            hint={t("networks.cidrHint")}
            required
            value={cidr}
            error={cidrError}
            onChange={(e) => setCidr(e.target.value)}
          />
          <Select
            label={t("networks.visibility")}
            value={visibility}
            onChange={(e) => setVisibility(e.target.value as never)}
          >
            <option value="public">{t("networks.public")}</option>
            <option value="private">{t("networks.private")}</option>
          </Select>
          <Select
            label={t("networks.policy")}
            value={policy}
            onChange={(e) => setPolicy(e.target.value as never)}
          >
            <option value="open">{t("policy.open")}</option>
            <option value="approval">{t("policy.approval")}</option>
            <option value="invite">{t("policy.invite")}</option>
          </Select>
          <div className="flex items-end">
            <Button type="submit">{t("networks.create")}</Button>
          </div>
        </form>
      ) : null}
    </Card>
  );
}
