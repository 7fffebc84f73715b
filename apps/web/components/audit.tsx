"use client";
import type { AuditEvent } from "@warren/sdk";
import { type FormEvent, useCallback, useRef, useState } from "react";
import { useI18n } from "../lib/i18n";
import { useSession } from "../lib/session";
import { useLoad } from "../lib/use-load";
import { Button, Card, ErrorText, Field, ScrollRegion } from "./ui";

/** The community's audit log with the server's filters: action (or prefix), actor, time range. */
export function Audit({ tenantId }: { tenantId: string }) {
  const { client, fail } = useSession();
  const { t, formatDate } = useI18n();
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [action, setAction] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [error, setError] = useState<string>();

  const query = useCallback(
    () => ({
      ...(action ? { action } : {}),
      ...(since ? { since: new Date(since).toISOString() } : {}),
      ...(until ? { until: new Date(until).toISOString() } : {}),
      limit: 50,
    }),
    [action, since, until],
  );
  // Filters apply on submit, not on every keystroke: load reads the latest ones.
  const latest = useRef(query);
  latest.current = query;
  const load = useCallback(async () => {
    setError(undefined);
    try {
      const page = await client.audit.list(tenantId, latest.current());
      setEvents(page.events);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(fail(err));
    }
  }, [client, tenantId, fail]);
  useLoad(load);

  async function more() {
    if (!cursor) return;
    try {
      const page = await client.audit.list(tenantId, { ...query(), before: cursor });
      setEvents((list) => [...list, ...page.events]);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(fail(err));
    }
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void load();
  };

  return (
    <Card title={t("audit.title")}>
      <form onSubmit={submit} className="mb-3 grid gap-3 sm:grid-cols-4">
        <Field
          label={t("audit.action")}
          hint={t("audit.actionHint")}
          value={action}
          onChange={(e) => setAction(e.target.value)}
        />
        <Field
          label={t("audit.since")}
          type="date"
          value={since}
          onChange={(e) => setSince(e.target.value)}
        />
        <Field
          label={t("audit.until")}
          type="date"
          value={until}
          onChange={(e) => setUntil(e.target.value)}
        />
        <div className="flex items-end">
          <Button type="submit" variant="secondary">
            {t("audit.filter")}
          </Button>
        </div>
      </form>
      <ErrorText message={error} />
      <ScrollRegion label={t("audit.title")} className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <thead>
            <tr className="border-b border-slate-300">
              <th scope="col" className="py-1 pr-3">
                {t("audit.when")}
              </th>
              <th scope="col" className="py-1 pr-3">
                {t("audit.action")}
              </th>
              <th scope="col" className="py-1 pr-3">
                {t("audit.actor")}
              </th>
              <th scope="col" className="py-1 pr-3">
                {t("audit.target")}
              </th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} className="border-b border-slate-200">
                <td className="py-1 pr-3 whitespace-nowrap">{formatDate(e.created_at)}</td>
                <td className="py-1 pr-3">
                  <code>{e.action}</code>
                </td>
                <td className="py-1 pr-3">{e.actor_username ?? "—"}</td>
                <td className="py-1 pr-3 break-all">{e.target ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      {cursor ? (
        <Button variant="secondary" className="mt-2" onClick={() => void more()}>
          {t("audit.more")}
        </Button>
      ) : null}
    </Card>
  );
}
