"use client";
import type { AnalyticsSummary, DailyUsers, MessageStats } from "@warren/sdk";
import { useCallback, useState } from "react";
import { BarChart } from "../../components/bar-chart";
import { RequireAuth } from "../../components/require-auth";
import { Card, ErrorText, ScrollRegion } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useSession } from "../../lib/session";
import { useLoad } from "../../lib/use-load";

const COLORS = ["#4338ca", "#0f766e", "#b45309", "#be123c", "#6d28d9", "#15803d", "#1d4ed8", "#a16207"];

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="rounded border border-slate-300 bg-white p-3">
      <dt className="text-xs text-slate-700">{label}</dt>
      <dd className="text-2xl font-semibold">{value}</dd>
    </div>
  );
}

function Admin() {
  const { client, fail } = useSession();
  const { t, formatNumber } = useI18n();
  const [summary, setSummary] = useState<AnalyticsSummary>();
  const [daily, setDaily] = useState<DailyUsers>();
  const [messages, setMessages] = useState<MessageStats>();
  const [stats, setStats] = useState<Record<string, unknown>>();
  const [error, setError] = useState<string>();
  const load = useCallback(async () => {
    try {
      const [s, d, m] = await Promise.all([
        client.analytics.summary(),
        client.analytics.dailyUsers(),
        client.analytics.messageStats(),
      ]);
      setSummary(s);
      setDaily(d);
      setMessages(m);
      setStats(await client.analytics.stats().catch(() => undefined));
    } catch (err) {
      setError(fail(err));
    }
  }, [client, fail]);
  useLoad(load);

  if (error) return <ErrorText message={error} />;
  if (!summary || !daily || !messages) return <p>{t("common.loading")}</p>;
  const types = Object.entries(messages.by_type)
    .sort((a, b) => b[1] - a[1])
    .slice(0, COLORS.length)
    .map(([type]) => type);
  const n = (v: number) => formatNumber(v);
  return (
    <>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <Stat label={t("admin.users")} value={n(summary.users.total)} />
        <Stat label={t("admin.dau")} value={n(summary.users.dau)} />
        <Stat label={t("admin.wau")} value={n(summary.users.wau)} />
        <Stat label={t("admin.mau")} value={n(summary.users.mau)} />
        <Stat label={t("admin.sessionsToday")} value={n(summary.sessions.today)} />
        <Stat label={t("admin.sessionsOpen")} value={n(summary.sessions.open)} />
        <Stat label={t("admin.messagesToday")} value={n(summary.messages.today)} />
        <Stat
          label={t("admin.avgSession")}
          value={
            summary.sessions.average_duration_ms === null
              ? "—"
              : `${n(Math.round(summary.sessions.average_duration_ms / 60_000))} min`
          }
        />
      </dl>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title={t("admin.activeChart")}>
          <BarChart
            title={t("admin.activeChart")}
            labels={daily.days.map((d) => d.day)}
            series={[
              {
                name: t("admin.active"),
                color: COLORS[0] ?? "#000",
                values: daily.days.map((d) => d.active_users),
              },
              {
                name: t("admin.new"),
                color: COLORS[1] ?? "#000",
                values: daily.days.map((d) => d.new_users),
              },
            ]}
          />
        </Card>
        <Card title={t("admin.messagesChart")}>
          <BarChart
            title={t("admin.messagesChart")}
            labels={messages.days.map((d) => d.day)}
            series={types.map((type, i) => ({
              name: type,
              color: COLORS[i] ?? "#000",
              values: messages.days.map((d) => d.by_type[type] ?? 0),
            }))}
          />
        </Card>
      </div>
      {stats ? (
        <Card title={t("admin.server")}>
          <ScrollRegion label={t("admin.server")} className="max-h-96 overflow-auto rounded bg-slate-100">
            <pre className="p-3 text-xs">{JSON.stringify(stats, null, 2)}</pre>
          </ScrollRegion>
        </Card>
      ) : null}
    </>
  );
}

export default function AdminPage() {
  const { t } = useI18n();
  return (
    <RequireAuth>
      <h1 className="text-2xl font-bold">{t("admin.title")}</h1>
      <Admin />
    </RequireAuth>
  );
}
