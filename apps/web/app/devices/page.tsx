"use client";
import type { Device, Network } from "@warren/protocol";
import { useCallback, useState } from "react";
import { AddDevice } from "../../components/add-device";
import { RequireAuth } from "../../components/require-auth";
import { Button, Card, ErrorText } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useParam } from "../../lib/navigate";
import { useSession } from "../../lib/session";
import { useLoad } from "../../lib/use-load";

function Devices() {
  const { client, fail } = useSession();
  const { t, formatRelative } = useI18n();
  const initialNetwork = useParam("network");
  const [devices, setDevices] = useState<Device[]>([]);
  const [networks, setNetworks] = useState<Network[]>([]);
  const [renaming, setRenaming] = useState<{ id: string; name: string }>();
  const [error, setError] = useState<string>();

  const load = useCallback(async () => {
    try {
      setDevices((await client.devices.list()).devices);
      const tenants = (await client.tenants.list()).tenants;
      const lists = await Promise.all(tenants.map((tn) => client.networks.list(tn.id)));
      setNetworks(lists.flatMap((l) => l.networks).filter((n) => n.my_status === "active"));
    } catch (err) {
      setError(fail(err));
    }
  }, [client, fail]);
  useLoad(load);

  const act = async (run: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await run();
      await load();
    } catch (err) {
      setError(fail(err));
    }
  };

  return (
    <>
      <h1 className="text-2xl font-bold">{t("devices.title")}</h1>
      <AddDevice networks={networks} initialNetwork={initialNetwork} onAdded={() => void load()} />
      <Card title={t("devices.mine")}>
        <ErrorText message={error} />
        {devices.length === 0 ? <p className="text-sm text-slate-700">{t("devices.empty")}</p> : null}
        <ul className="divide-y divide-slate-200" data-testid="devices">
          {devices.map((d) => (
            <li key={d.id} className="flex flex-wrap items-center gap-2 py-2">
              {renaming?.id === d.id ? (
                <form
                  className="flex gap-2"
                  onSubmit={(e) => {
                    e.preventDefault();
                    void act(() => client.devices.update(d.id, { name: renaming.name })).then(() =>
                      setRenaming(undefined),
                    );
                  }}
                >
                  <label className="sr-only" htmlFor={`rename-${d.id}`}>
                    {t("devices.name")}
                  </label>
                  <input
                    id={`rename-${d.id}`}
                    className="rounded border border-slate-500 px-2 py-1"
                    value={renaming.name}
                    onChange={(e) => setRenaming({ id: d.id, name: e.target.value })}
                  />
                  <Button type="submit">{t("common.save")}</Button>
                </form>
              ) : (
                <span className="font-medium">{d.name}</span>
              )}
              <span className="text-sm text-slate-700">{t(`platform.${d.platform}`)}</span>
              <code className="break-all text-xs" data-testid="device-key">
                {d.public_key}
              </code>
              <span className="text-sm text-slate-700">{formatRelative(d.last_seen)}</span>
              <span className="ml-auto flex gap-2">
                <Button variant="secondary" onClick={() => setRenaming({ id: d.id, name: d.name })}>
                  {t("devices.rename")}
                </Button>
                <Button
                  variant="danger"
                  onClick={() => {
                    if (window.confirm(t("devices.deleteConfirm", { name: d.name })))
                      void act(() => client.devices.remove(d.id));
                  }}
                >
                  {t("devices.delete")}
                </Button>
              </span>
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}

export default function DevicesPage() {
  return (
    <RequireAuth>
      <Devices />
    </RequireAuth>
  );
}
