"use client";
import type { Network } from "@warren/protocol";
import { generateWireGuardKeys, wgQuickFile } from "@warren/sdk";
import { type FormEvent, useEffect, useState } from "react";
import { useI18n } from "../lib/i18n";
import { useSession } from "../lib/session";
import { QrCode } from "./qr";
import { Button, Card, ErrorText, Field, ScrollRegion, Select } from "./ui";

type Platform = "android" | "ios" | "macos" | "windows" | "linux" | "other";

/**
 * Adds a phone or another machine. The browser makes the WireGuard key pair; only the
 * public key is sent (devices.create); the server's config comes back without a private
 * key and the browser fills it in for the download and the QR code. The private key is
 * held in this component's memory only and is gone when it closes.
 */
export function AddDevice({
  networks,
  initialNetwork,
  onAdded,
}: {
  networks: Network[];
  initialNetwork: string | null;
  onAdded: () => void;
}) {
  const { client, fail } = useSession();
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [platform, setPlatform] = useState<Platform>("android");
  const [network, setNetwork] = useState(initialNetwork ?? "");
  const [address, setAddress] = useState("");
  const [file, setFile] = useState<{ name: string; text: string; url: string } | undefined>();
  const [code, setCode] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!network && networks[0]) setNetwork(networks[0].id);
  }, [network, networks]);
  useEffect(() => () => (file ? URL.revokeObjectURL(file.url) : undefined), [file]);

  const chosen = networks.find((n) => n.id === network);

  async function add(e: FormEvent) {
    e.preventDefault();
    if (!chosen) return;
    setBusy(true);
    setError(undefined);
    try {
      const keys = generateWireGuardKeys();
      const device = await client.devices.create({ name, platform, public_key: keys.publicKey });
      // A fixed address is pinned by admins; anyone else's request for one is refused with a reason.
      const peer = await client.networks.addPeer(chosen.id, device.id, address ? { address } : {});
      const config = await client.peers.configJson(peer.id);
      const text = wgQuickFile(config, keys.privateKey);
      const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
      setFile({ name: `${chosen.name}-${name}`.replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 60), text, url });
      onAdded();
    } catch (err) {
      setError(fail(err));
    } finally {
      setBusy(false);
    }
  }

  async function makeInvite() {
    if (!chosen) return;
    try {
      const invite = await client.invites.create(chosen.tenant_id, {
        network_id: chosen.id,
        max_uses: 1,
        expires_in_seconds: 86_400,
      });
      setCode(invite.code);
    } catch (err) {
      setError(fail(err));
    }
  }

  return (
    <Card title={t("devices.add")}>
      {networks.length === 0 ? <p className="text-sm text-slate-700">{t("devices.noNetworks")}</p> : null}
      {file ? (
        <div className="flex flex-col gap-3" data-testid="device-config">
          <p>{t("devices.ready")}</p>
          <div className="flex flex-wrap items-start gap-4">
            <QrCode value={file.text} label={t("devices.qr")} size={260} />
            <div className="flex flex-col gap-2">
              <a
                className="rounded bg-indigo-700 px-3 py-2 text-center text-sm font-medium text-white"
                href={file.url}
                download={`${file.name}.conf`}
              >
                {t("devices.download")}
              </a>
              <p className="max-w-sm text-sm text-slate-700">{t("devices.privateNote")}</p>
              <Button variant="secondary" onClick={() => setFile(undefined)}>
                {t("devices.done")}
              </Button>
            </div>
          </div>
        </div>
      ) : (
        <form onSubmit={add} className="grid gap-3 sm:grid-cols-4">
          <Field
            label={t("devices.name")}
            name="device-name"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <Select
            label={t("devices.platform")}
            value={platform}
            onChange={(e) => setPlatform(e.target.value as Platform)}
          >
            {(["android", "ios", "macos", "windows", "linux", "other"] as Platform[]).map((p) => (
              <option key={p} value={p}>
                {t(`platform.${p}`)}
              </option>
            ))}
          </Select>
          <Select
            label={t("devices.network")}
            name="device-network"
            value={network}
            onChange={(e) => setNetwork(e.target.value)}
          >
            {networks.map((n) => (
              <option key={n.id} value={n.id}>
                {n.name}
              </option>
            ))}
          </Select>
          <Field
            label={t("devices.address")}
            hint={t("devices.addressHint")}
            name="device-address"
            value={address}
            onChange={(e) => setAddress(e.target.value)}
          />
          <div className="flex items-end">
            <Button type="submit" disabled={busy || !chosen}>
              {t("devices.create")}
            </Button>
          </div>
          <div className="sm:col-span-4">
            <ErrorText message={error} />
          </div>
        </form>
      )}
      {platform === "linux" && chosen ? (
        <div className="mt-4 border-t border-slate-200 pt-3">
          <h3 className="font-semibold">{t("devices.linuxTitle")}</h3>
          <p className="text-sm text-slate-700">{t("devices.linuxText")}</p>
          <Button variant="secondary" className="my-2" onClick={() => void makeInvite()}>
            {t("devices.makeInvite")}
          </Button>
          <ScrollRegion label={t("devices.linuxTitle")} className="overflow-x-auto rounded bg-slate-900">
            <pre className="p-3 text-sm text-slate-50">
              {`sudo warren login --server ${window.location.origin}\nsudo warren join ${code || "<invite-code>"}\nsudo warren up ${chosen.name}`}
            </pre>
          </ScrollRegion>
        </div>
      ) : null}
    </Card>
  );
}
