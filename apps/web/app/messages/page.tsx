"use client";
import Link from "next/link";
import { type FormEvent, useEffect, useState } from "react";
import { ProofForm } from "../../components/proof";
import { RequireAuth } from "../../components/require-auth";
import { Badge, Button, Card, ErrorText, ScrollRegion } from "../../components/ui";
import { useDirect } from "../../lib/direct";
import { useI18n } from "../../lib/i18n";
import { useParam } from "../../lib/navigate";
import { useSession } from "../../lib/session";

function Conversation({ user, name: given }: { user: string; name: string | undefined }) {
  const { fail } = useSession();
  const direct = useDirect();
  const name = given ?? direct.names[user] ?? user;
  const { t, formatDate } = useI18n();
  const [text, setText] = useState("");
  const [error, setError] = useState<string>();
  const messages = direct.conversations[user] ?? [];
  const untrusted = direct.untrusted[user] === true;
  const { ready, loadHistory, markRead } = direct;

  useEffect(() => {
    if (ready) loadHistory(user).catch((err) => setError(fail(err)));
  }, [ready, user, loadHistory, fail]);

  // What is on screen has been read: the sender sees "read".
  const unread = messages.filter((m) => !m.fromMe).length;
  useEffect(() => {
    if (ready && unread > 0 && document.visibilityState === "visible") {
      markRead(user).catch((err) => setError(fail(err)));
    }
  }, [ready, unread, user, markRead, fail]);

  async function send(e: FormEvent) {
    e.preventDefault();
    if (!text.trim()) return;
    setError(undefined);
    try {
      await direct.send(user, text);
      setText("");
    } catch (err) {
      setError(fail(err));
    }
  }

  return (
    <Card title={t("dm.with", { name })}>
      <p className="mb-2 text-sm text-slate-700">{t("dm.e2e")}</p>
      {direct.error ? <ErrorText message={direct.error} /> : null}
      {direct.needsProof ? <ProofForm onProved={direct.retry} /> : null}
      {untrusted ? (
        <div role="alert" className="mb-3 rounded border border-amber-300 bg-amber-50 p-3">
          <p className="mb-2">{t("dm.keyChanged", { name })}</p>
          <Button onClick={() => void direct.trust(user).catch((err) => setError(fail(err)))}>
            {t("dm.acceptKeys")}
          </Button>
        </div>
      ) : null}
      <ScrollRegion label={t("dm.title")} className="mb-3 max-h-[28rem] overflow-y-auto">
        <ol className="flex flex-col gap-2" aria-live="polite" data-testid="dm-log">
          {messages.map((m) => (
            <li
              key={m.id}
              data-delivery={m.delivery}
              className={`max-w-[85%] rounded px-3 py-2 ${m.fromMe ? "self-end bg-indigo-50" : "self-start bg-slate-100"}`}
            >
              <p className="whitespace-pre-wrap break-words">{m.text}</p>
              <p className="mt-1 flex flex-wrap gap-2 text-xs text-slate-700">
                <time dateTime={m.sent_at}>{formatDate(m.sent_at)}</time>
                {m.fromMe ? <span data-testid="delivery">{t(`dm.${m.delivery}`)}</span> : null}
                <Badge tone={m.verification === "verified" ? "green" : "amber"}>
                  {t(`dm.sig.${m.verification}`)}
                </Badge>
              </p>
            </li>
          ))}
        </ol>
      </ScrollRegion>
      <ErrorText message={error} />
      <form onSubmit={send} className="flex gap-2">
        <label className="sr-only" htmlFor="dm-text">
          {t("chat.message")}
        </label>
        <input
          id="dm-text"
          className="min-w-0 flex-1 rounded border border-slate-500 px-2 py-1.5"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={t("chat.placeholder")}
        />
        <Button type="submit" disabled={!direct.ready}>
          {t("chat.send")}
        </Button>
      </form>
    </Card>
  );
}

function Inbox() {
  const { conversations, names } = useDirect();
  const { t } = useI18n();
  const users = Object.keys(conversations);
  return (
    <Card title={t("dm.conversations")}>
      {users.length === 0 ? <p className="text-sm text-slate-700">{t("dm.none")}</p> : null}
      <ul className="divide-y divide-slate-200">
        {users.map((u) => (
          <li key={u} className="py-2">
            <Link
              className="text-indigo-800 underline"
              href={`/messages/?user=${u}&name=${encodeURIComponent(names[u] ?? u)}`}
            >
              {names[u] ?? u}
            </Link>
          </li>
        ))}
      </ul>
    </Card>
  );
}

export default function MessagesPage() {
  const user = useParam("user");
  const name = useParam("name");
  const { t } = useI18n();
  return (
    <RequireAuth>
      <h1 className="text-2xl font-bold">{t("dm.title")}</h1>
      {user ? <Conversation key={user} user={user} name={name ?? undefined} /> : <Inbox />}
    </RequireAuth>
  );
}
