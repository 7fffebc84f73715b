"use client";
import type { Network, NetworkMember, NetworkPeer, Reservation } from "@warren/protocol";
import Link from "next/link";
import { type FormEvent, useCallback, useMemo, useState } from "react";
import { Chat } from "../../components/chat";
import { PeersTable } from "../../components/peers-table";
import { RequireAuth } from "../../components/require-auth";
import { Badge, Button, Card, ErrorText, Field } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useParam } from "../../lib/navigate";
import { may, mayActOn, type Role } from "../../lib/policy";
import { useSession } from "../../lib/session";
import { useHub } from "../../lib/use-hub";
import { useLoad } from "../../lib/use-load";

function sortPeers(list: NetworkPeer[]): NetworkPeer[] {
  const num = (a: string) => a.split(".").reduce((n, part) => n * 256 + Number(part), 0);
  return [...list].sort((a, b) => num(a.address) - num(b.address));
}

function NetworkView({ id }: { id: string }) {
  const { client, me, fail } = useSession();
  const { t } = useI18n();
  const [network, setNetwork] = useState<Network>();
  const [role, setRole] = useState<Role | null>(null);
  const [peers, setPeers] = useState<NetworkPeer[]>([]);
  const [members, setMembers] = useState<NetworkMember[]>([]);
  const [reservations, setReservations] = useState<Reservation[]>([]);
  const [reserveAddress, setReserveAddress] = useState("");
  const [reserveNote, setReserveNote] = useState("");
  const [lost, setLost] = useState<string>();
  const [error, setError] = useState<string>();

  const load = useCallback(async () => {
    try {
      const n = await client.networks.get(id);
      setNetwork(n);
      const tenant = await client.tenants.get(n.tenant_id);
      setRole(tenant.role);
      const [m, p] = await Promise.all([
        client.networks.members(id).catch(() => ({ members: [] as NetworkMember[] })),
        n.my_status === "active" || may(tenant.role, "read_peers")
          ? client.networks.peers(id)
          : Promise.resolve({ peers: [] as NetworkPeer[] }),
      ]);
      setMembers(m.members);
      setPeers(sortPeers(p.peers));
      if (may(tenant.role, "manage_addresses"))
        setReservations((await client.networks.reservations(id)).reservations);
    } catch (err) {
      setError(fail(err));
    }
  }, [client, id, fail]);
  useLoad(load);

  useHub("peer.added", (f) => {
    if (f.network_id === id)
      setPeers((list) => sortPeers([...list.filter((p) => p.id !== f.peer.id), f.peer]));
  });
  useHub("peer.updated", (f) => {
    if (f.network_id === id) setPeers((list) => list.map((p) => (p.id === f.peer.id ? f.peer : p)));
  });
  useHub("peer.removed", (f) => {
    if (f.network_id === id) setPeers((list) => list.filter((p) => p.id !== f.peer_id));
  });
  useHub("peer.status", (f) => {
    if (f.network_id !== id) return;
    const online = f.status === "online";
    setPeers((list) =>
      list.map((p) =>
        p.id === f.peer_id
          ? { ...p, online, endpoint: f.endpoint ?? p.endpoint, last_seen: new Date().toISOString() }
          : p,
      ),
    );
  });
  useHub("peer.path", (f) => {
    if (f.network_id !== id) return;
    setPeers((list) => list.map((p) => (p.id === f.peer_id ? { ...p, path_report: f.report } : p)));
  });
  useHub("member.joined", (f) => {
    if (f.network_id === id) void load();
  });
  useHub("join.request", (f) => {
    if (f.network_id === id) void load();
  });
  useHub("member.removed", (f) => {
    if (f.network_id !== id && !(f.network_id === null && f.tenant_id === network?.tenant_id)) return;
    if (f.user_id === me?.id) {
      setLost(t("network.removed"));
      return;
    }
    setMembers((list) => list.filter((m) => m.user.id !== f.user_id));
  });
  useHub("network.deleted", (f) => {
    if (f.network_id === id) setLost(t("network.deleted"));
  });
  useHub("network.updated", (f) => {
    if (f.network_id === id) void load();
  });

  const owners = useMemo(() => new Map(members.map((m) => [m.user.id, m.user.username])), [members]);

  const act = async (run: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await run();
      await load();
    } catch (err) {
      setError(fail(err));
    }
  };

  async function reserve(e: FormEvent) {
    e.preventDefault();
    await act(() =>
      client.networks.reserve(id, { address: reserveAddress, ...(reserveNote ? { note: reserveNote } : {}) }),
    );
    setReserveAddress("");
    setReserveNote("");
  }

  if (lost)
    return (
      <div role="alert" className="rounded border border-amber-300 bg-amber-50 p-4">
        {lost}{" "}
        <a className="text-indigo-800 underline" href="/">
          {t("community.backHome")}
        </a>
      </div>
    );
  if (!network) return error ? <ErrorText message={error} /> : <p>{t("common.loading")}</p>;
  const pending = members.filter((m) => m.status === "pending");
  const active = members.filter((m) => m.status === "active");
  return (
    <>
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold">{network.name}</h1>
        <code>{network.cidr}</code>
        <Badge>{t(`policy.${network.join_policy}`)}</Badge>
        <Link className="text-sm text-indigo-800 underline" href={`/community/?id=${network.tenant_id}`}>
          {t("network.community")}
        </Link>
        <span className="ml-auto flex gap-2">
          {network.my_status === null && network.join_policy !== "invite" ? (
            <Button onClick={() => void act(() => client.networks.join(id))}>{t("networks.join")}</Button>
          ) : null}
          {network.my_status === "active" ? (
            <>
              <Link
                className="rounded bg-indigo-700 px-3 py-2 text-sm font-medium text-white"
                href={`/devices/?network=${id}`}
              >
                {t("devices.add")}
              </Link>
              <Button variant="secondary" onClick={() => void act(() => client.networks.leave(id))}>
                {t("network.leave")}
              </Button>
            </>
          ) : null}
        </span>
      </div>
      <ErrorText message={error} />
      <Card title={t("peers.title")}>
        {peers.length === 0 ? <p className="text-sm text-slate-700">{t("peers.empty")}</p> : null}
        <PeersTable peers={peers} owners={owners} me={me?.id} />
      </Card>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title={t("network.members")}>
          {pending.length > 0 && may(role, "approve_join") ? (
            <>
              <h3 className="font-semibold">{t("network.requests")}</h3>
              <ul className="mb-3 divide-y divide-slate-200" data-testid="join-requests">
                {pending.map((m) => (
                  <li key={m.user.id} className="flex flex-wrap items-center gap-2 py-2">
                    <span className="font-medium">{m.user.username}</span>
                    <span className="ml-auto flex gap-2">
                      <Button onClick={() => void act(() => client.networks.approve(id, m.user.id))}>
                        {t("network.approve")}
                      </Button>
                      <Button
                        variant="secondary"
                        onClick={() => void act(() => client.networks.deny(id, m.user.id))}
                      >
                        {t("network.deny")}
                      </Button>
                    </span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          <ul className="divide-y divide-slate-200" data-testid="network-members">
            {active.map((m) => (
              <li key={m.user.id} className="flex flex-wrap items-center gap-2 py-2">
                <span className="font-medium">{m.user.username}</span>
                <Badge>{t(`role.${m.role}`)}</Badge>
                {m.user.id !== me?.id && mayActOn(role, m.role, "network_kick") ? (
                  <span className="ml-auto flex gap-2">
                    <Button
                      variant="secondary"
                      onClick={() => void act(() => client.networks.kick(id, m.user.id))}
                    >
                      {t("members.kick")}
                    </Button>
                    <Button
                      variant="danger"
                      onClick={() => void act(() => client.networks.ban(id, { user_id: m.user.id }))}
                    >
                      {t("members.ban")}
                    </Button>
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        </Card>
        {network.my_status === "active" ? <Chat kind="network" id={id} role={role} /> : null}
      </div>
      {may(role, "manage_addresses") ? (
        <Card title={t("network.reservations")}>
          <form onSubmit={reserve} className="mb-3 grid gap-3 sm:grid-cols-3">
            <Field
              label={t("peers.address")}
              required
              value={reserveAddress}
              onChange={(e) => setReserveAddress(e.target.value)}
            />
            <Field
              label={t("network.note")}
              value={reserveNote}
              onChange={(e) => setReserveNote(e.target.value)}
            />
            <div className="flex items-end">
              <Button type="submit">{t("network.reserve")}</Button>
            </div>
          </form>
          <ul className="divide-y divide-slate-200">
            {reservations.map((r) => (
              <li key={r.address} className="flex items-center gap-2 py-2 text-sm">
                <code>{r.address}</code>
                <span>{r.note ?? ""}</span>
                <Button
                  variant="secondary"
                  className="ml-auto"
                  onClick={() => void act(() => client.networks.unreserve(id, r.address))}
                >
                  {t("network.release")}
                </Button>
              </li>
            ))}
          </ul>
        </Card>
      ) : null}
    </>
  );
}

export default function NetworkPage() {
  const id = useParam("id");
  const { t } = useI18n();
  return <RequireAuth>{id ? <NetworkView key={id} id={id} /> : <p>{t("common.missingId")}</p>}</RequireAuth>;
}
