"use client";
import type { ChatMessage } from "@warren/protocol";
import type { ChannelKind } from "@warren/sdk";
import { type FormEvent, useCallback, useState } from "react";
import { useI18n } from "../lib/i18n";
import { may, type Role } from "../lib/policy";
import { useSession } from "../lib/session";
import { useHub } from "../lib/use-hub";
import { useLoad } from "../lib/use-load";
import { Button, Card, ErrorText, ScrollRegion } from "./ui";

const inChannel = (kind: ChannelKind, id: string, m: { tenant_id: string; network_id: string | null }) =>
  kind === "tenant" ? m.network_id === null && m.tenant_id === id : m.network_id === id;

/** A community's or network's chat: live, newest at the bottom, older pages on demand. */
export function Chat({ kind, id, role }: { kind: ChannelKind; id: string; role: Role | null }) {
  const { client, me, fail } = useSession();
  const { t, formatDate } = useI18n();
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [editing, setEditing] = useState<{ id: string; text: string } | undefined>();
  const [error, setError] = useState<string>();

  const upsert = useCallback((items: ChatMessage[]) => {
    setMessages((list) => {
      const byId = new Map(list.map((m) => [m.id, m]));
      for (const m of items) byId.set(m.id, m);
      return [...byId.values()].sort(
        (a, b) => a.timestamp.localeCompare(b.timestamp) || a.id.localeCompare(b.id),
      );
    });
  }, []);

  const load = useCallback(async () => {
    try {
      const page = await client.messages.list(kind, id, { limit: 50 });
      upsert(page.messages);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(fail(err));
    }
  }, [client, kind, id, upsert, fail]);
  useLoad(load);

  useHub("chat.message", (f) => {
    if (inChannel(kind, id, f.data)) upsert([f.data]);
  });
  useHub("chat.message_updated", (f) => {
    if (inChannel(kind, id, f.data)) upsert([f.data]);
  });
  useHub("chat.message_deleted", (f) => {
    if (inChannel(kind, id, f.data)) setMessages((list) => list.filter((m) => m.id !== f.data.id));
  });

  async function older() {
    if (!cursor) return;
    try {
      const page = await client.messages.list(kind, id, { limit: 50, before: cursor });
      upsert(page.messages);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(fail(err));
    }
  }

  async function send(e: FormEvent) {
    e.preventDefault();
    if (!text.trim()) return;
    setError(undefined);
    try {
      upsert([await client.messages.send(kind, id, text)]);
      setText("");
    } catch (err) {
      setError(fail(err));
    }
  }

  async function saveEdit(e: FormEvent) {
    e.preventDefault();
    if (!editing) return;
    try {
      upsert([await client.messages.edit(editing.id, editing.text)]);
      setEditing(undefined);
    } catch (err) {
      setError(fail(err));
    }
  }

  async function remove(messageId: string) {
    try {
      await client.messages.remove(messageId);
      setMessages((list) => list.filter((m) => m.id !== messageId));
    } catch (err) {
      setError(fail(err));
    }
  }

  return (
    <Card title={t("chat.title")}>
      {cursor ? (
        <Button variant="secondary" onClick={() => void older()} className="mb-2">
          {t("chat.older")}
        </Button>
      ) : null}
      <ScrollRegion label={t("chat.title")} className="mb-3 max-h-96 overflow-y-auto">
        <ol className="flex flex-col gap-2" aria-live="polite" data-testid="chat-log">
          {messages.map((m) => {
            const mine = m.user_id === me?.id;
            return (
              <li key={m.id} className="rounded bg-slate-100 px-3 py-2">
                <div className="flex flex-wrap items-baseline gap-2 text-xs text-slate-700">
                  <span className="font-semibold text-slate-900">{m.username}</span>
                  <time dateTime={m.timestamp}>{formatDate(m.timestamp)}</time>
                  {m.edited_at ? <span>{t("chat.edited")}</span> : null}
                  <span className="ml-auto flex gap-2">
                    {mine ? (
                      <button
                        type="button"
                        className="underline"
                        onClick={() => setEditing({ id: m.id, text: m.content })}
                      >
                        {t("chat.edit")}
                      </button>
                    ) : null}
                    {mine || may(role, "delete_any_message") ? (
                      <button type="button" className="underline" onClick={() => void remove(m.id)}>
                        {t("chat.delete")}
                      </button>
                    ) : null}
                  </span>
                </div>
                {editing?.id === m.id ? (
                  <form onSubmit={saveEdit} className="mt-1 flex gap-2">
                    <label className="sr-only" htmlFor={`edit-${m.id}`}>
                      {t("chat.edit")}
                    </label>
                    <input
                      id={`edit-${m.id}`}
                      className="flex-1 rounded border border-slate-500 px-2 py-1"
                      value={editing.text}
                      onChange={(e) => setEditing({ id: m.id, text: e.target.value })}
                    />
                    <Button type="submit">{t("common.save")}</Button>
                  </form>
                ) : (
                  <p className="whitespace-pre-wrap break-words">{m.content}</p>
                )}
              </li>
            );
          })}
        </ol>
      </ScrollRegion>
      <ErrorText message={error} />
      <form onSubmit={send} className="flex gap-2">
        <label className="sr-only" htmlFor={`chat-${id}`}>
          {t("chat.message")}
        </label>
        <input
          id={`chat-${id}`}
          name="chat"
          className="min-w-0 flex-1 rounded border border-slate-500 px-2 py-1.5"
          placeholder={t("chat.placeholder")}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <Button type="submit">{t("chat.send")}</Button>
      </form>
    </Card>
  );
}
