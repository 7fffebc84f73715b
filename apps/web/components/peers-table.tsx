"use client";
import type { NetworkPeer, PeerPath } from "@warren/protocol";
import { memo, useMemo } from "react";
import { useI18n } from "../lib/i18n";
import { Badge, ScrollRegion } from "./ui";

const Row = memo(function Row({
  peer,
  owner,
  mine,
  path,
}: {
  peer: NetworkPeer;
  owner: string;
  mine: boolean;
  path: PeerPath | undefined;
}) {
  const { t, formatRelative, formatNumber } = useI18n();
  return (
    <tr className="border-b border-slate-200" data-peer={peer.id}>
      <td className="py-1 pr-3 font-medium">
        {peer.name}
        {mine ? <span className="ml-1 text-xs text-slate-700">({t("peers.mine")})</span> : null}
      </td>
      <td className="py-1 pr-3">{owner}</td>
      <td className="py-1 pr-3">
        <code>{peer.address}</code>
      </td>
      <td className="py-1 pr-3">
        {peer.online ? <Badge tone="green">{t("peers.online")}</Badge> : <Badge>{t("peers.offline")}</Badge>}
      </td>
      <td className="py-1 pr-3">
        <code>{peer.endpoint ?? "—"}</code>
      </td>
      <td className="py-1 pr-3 whitespace-nowrap">
        {peer.online ? t("peers.now") : formatRelative(peer.last_seen)}
      </td>
      <td className="py-1 pr-3" data-testid="peer-path">
        {path ? (
          <>
            <Badge tone={path.path === "direct" ? "green" : "amber"}>{t(`peers.path.${path.path}`)}</Badge>
            {path.rtt_ms !== null ? (
              <span className="ml-1 text-xs">{formatNumber(Math.round(path.rtt_ms))} ms</span>
            ) : null}
            <span className="block text-xs text-slate-700">{path.reason}</span>
          </>
        ) : (
          "—"
        )}
      </td>
    </tr>
  );
});

/**
 * A network's peers. Rows are memoised on their peer object, so a status change
 * re-renders one row: a thousand peers stay responsive under a hundred changes a second.
 * The path column is the way from my own devices in this network to each peer (direct or
 * through the relay, and why), as their daemons last reported it.
 */
export function PeersTable({
  peers,
  owners,
  me,
}: {
  peers: NetworkPeer[];
  owners: Map<string, string>;
  me: string | undefined;
}) {
  const { t } = useI18n();
  const paths = useMemo(() => {
    const byDevice = new Map<string, PeerPath>();
    for (const p of peers) {
      if (p.user_id !== me || !p.path_report) continue;
      for (const path of p.path_report.paths) {
        if (!byDevice.has(path.device_id)) byDevice.set(path.device_id, path);
      }
    }
    return byDevice;
  }, [peers, me]);
  return (
    <ScrollRegion label={t("peers.title")} className="overflow-x-auto">
      <table className="w-full text-left text-sm" data-testid="peers">
        <caption className="sr-only">{t("peers.title")}</caption>
        <thead>
          <tr className="border-b border-slate-300">
            <th scope="col" className="py-1 pr-3">
              {t("peers.name")}
            </th>
            <th scope="col" className="py-1 pr-3">
              {t("peers.owner")}
            </th>
            <th scope="col" className="py-1 pr-3">
              {t("peers.address")}
            </th>
            <th scope="col" className="py-1 pr-3">
              {t("peers.status")}
            </th>
            <th scope="col" className="py-1 pr-3">
              {t("peers.endpoint")}
            </th>
            <th scope="col" className="py-1 pr-3">
              {t("peers.lastSeen")}
            </th>
            <th scope="col" className="py-1 pr-3">
              {t("peers.path")}
            </th>
          </tr>
        </thead>
        <tbody>
          {peers.map((p) => (
            <Row
              key={p.id}
              peer={p}
              owner={owners.get(p.user_id) ?? "—"}
              mine={p.user_id === me}
              path={p.user_id === me ? undefined : paths.get(p.device_id)}
            />
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
