"use client";
import { WarrenError } from "@warren/sdk";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { createIndexedDbKeyStore } from "./keystore";
import { useSession } from "./session";

export type Delivery = "sending" | "sent" | "delivered" | "read";

export interface DmItem {
  id: string;
  from: string;
  to: string;
  text: string;
  sent_at: string;
  fromMe: boolean;
  verification: string;
  delivery: Delivery;
}

interface Direct {
  /** true once this browser's message keys are registered and it is receiving */
  ready: boolean;
  error: string | undefined;
  /** registering this browser's keys needs a fresh proof of identity first */
  needsProof: boolean;
  /** tries the setup again (after the proof) */
  retry(): void;
  conversations: Record<string, DmItem[]>;
  /** usernames of the people in conversations, by user id */
  names: Record<string, string>;
  /** users whose keys changed and must be accepted before sending to them */
  untrusted: Record<string, boolean>;
  send(userId: string, text: string): Promise<void>;
  trust(userId: string): Promise<void>;
  loadHistory(userId: string): Promise<void>;
  markRead(userId: string): Promise<void>;
}

const Context = createContext<Direct | undefined>(undefined);
const RANK: Record<Delivery, number> = { sending: 0, sent: 1, delivered: 2, read: 3 };

function merge(list: DmItem[] | undefined, items: DmItem[]): DmItem[] {
  const byId = new Map((list ?? []).map((m) => [m.id, m]));
  for (const m of items) {
    const old = byId.get(m.id);
    byId.set(m.id, old && RANK[old.delivery] > RANK[m.delivery] ? { ...m, delivery: old.delivery } : m);
  }
  return [...byId.values()].sort((a, b) => a.sent_at.localeCompare(b.sent_at));
}

/**
 * End-to-end encrypted direct messages for this browser, a device of its own: its
 * Ed25519 and X25519 secrets are made here, kept in IndexedDB and never sent; the SDK
 * seals, signs, opens and verifies. Messages arrive on the page's one hub socket.
 */
export function DirectProvider({ children }: { children: ReactNode }) {
  const { client, me, hub, device, fail } = useSession();
  const [ready, setReady] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [conversations, setConversations] = useState<Record<string, DmItem[]>>({});
  const [untrusted, setUntrusted] = useState<Record<string, boolean>>({});
  const [read, setRead] = useState<Set<string>>(() => new Set());
  const [needsProof, setNeedsProof] = useState(false);
  const [names, setNames] = useState<Record<string, string>>({});
  const [attempt, setAttempt] = useState(0);

  const add = useCallback((peer: string, items: DmItem[]) => {
    setConversations((all) => ({ ...all, [peer]: merge(all[peer], items) }));
  }, []);

  // Name each new correspondent once (a failure leaves the id showing).
  useEffect(() => {
    for (const id of Object.keys(conversations)) {
      if (names[id] !== undefined) continue;
      setNames((n) => ({ ...n, [id]: id }));
      client.users
        .get(id)
        .then((u) => setNames((n) => ({ ...n, [id]: u.username })))
        .catch(() => undefined);
    }
  }, [conversations, names, client]);

  // attempt is listed so a retry after a proof of identity runs the setup again.
  // biome-ignore lint/correctness/useExhaustiveDependencies: attempt is the retry signal itself
  useEffect(() => {
    if (!me || !hub || !device) return;
    let stopped = false;
    const direct = client.direct;
    const offs = [
      direct.on("status", (e) => {
        const delivery: Delivery = e.status === "read" ? "read" : "delivered";
        setConversations((all) => {
          const next: Record<string, DmItem[]> = {};
          for (const [peer, list] of Object.entries(all)) {
            next[peer] = list.map((m) =>
              m.id === e.id && RANK[delivery] > RANK[m.delivery] ? { ...m, delivery } : m,
            );
          }
          return next;
        });
      }),
      direct.on("key_change", (e) => setUntrusted((u) => ({ ...u, [e.user]: e.needsTrust }))),
    ];
    (async () => {
      try {
        const store = await createIndexedDbKeyStore(me.id);
        await direct.setup({ device, store, socket: hub, connect: false });
        if (stopped) return;
        setReady(true);
        for await (const m of direct.messages()) {
          const peer = m.fromMe ? m.to : m.from;
          add(peer, [{ ...m, delivery: m.fromMe ? "sent" : "delivered" }]);
        }
      } catch (err) {
        if (stopped) return;
        // Adding a device's keys is a credential change: an old session proves itself first.
        if (err instanceof WarrenError && err.code === "reauthentication_required") setNeedsProof(true);
        else setError(fail(err));
      }
    })();
    return () => {
      stopped = true;
      for (const off of offs) off();
      direct.close();
      setReady(false);
    };
  }, [client, me, hub, device, add, fail, attempt]);

  const value = useMemo<Direct>(
    () => ({
      ready,
      error,
      needsProof,
      retry() {
        setNeedsProof(false);
        setError(undefined);
        setAttempt((n) => n + 1);
      },
      conversations,
      names,
      untrusted,
      async send(userId, text) {
        try {
          const sent = await client.direct.send(userId, text);
          add(userId, [
            {
              id: sent.id,
              from: me?.id ?? "",
              to: userId,
              text,
              sent_at: sent.sent_at,
              fromMe: true,
              verification: "verified",
              delivery: "sent",
            },
          ]);
        } catch (err) {
          if (err instanceof WarrenError && err.code === "untrusted_keys") {
            setUntrusted((u) => ({ ...u, [userId]: true }));
          }
          throw err;
        }
      },
      async trust(userId) {
        await client.direct.trust(userId);
        setUntrusted((u) => ({ ...u, [userId]: false }));
      },
      async loadHistory(userId) {
        const { messages } = await client.direct.history(userId, { limit: 50 });
        add(
          userId,
          messages.map((m) => ({
            id: m.id,
            from: m.from,
            to: m.to,
            text: m.text,
            sent_at: m.sent_at,
            fromMe: m.fromMe,
            verification: m.verification,
            delivery: (["delivered", "read"].includes(m.status) ? m.status : "sent") as Delivery,
          })),
        );
      },
      async markRead(userId) {
        const ids = (conversations[userId] ?? [])
          .filter((m) => !m.fromMe && !read.has(m.id))
          .map((m) => m.id);
        if (ids.length === 0) return;
        setRead((r) => new Set([...r, ...ids]));
        await client.direct.markRead(ids);
      },
    }),
    [ready, error, needsProof, conversations, names, untrusted, client, me, add, read],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useDirect(): Direct {
  const value = useContext(Context);
  if (!value) throw new Error("useDirect outside DirectProvider");
  return value;
}
