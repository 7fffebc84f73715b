"use client";
import type { Me } from "@warren/protocol";
import { type Client, WarrenError, type WarrenSocket } from "@warren/sdk";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { dropTokens, getClient, onSignedInChange } from "./client";

export type HubState = "connecting" | "online" | "reconnecting" | "offline";

interface Session {
  client: Client;
  /** undefined while loading, null when signed out */
  me: Me | null | undefined;
  /** why the account could not be loaded (the server unreachable, or failing), if so */
  loadError: string | undefined;
  /** this browser's hub device id (a new browser is a new device) */
  device: string | undefined;
  /** the page's one hub socket */
  hub: WarrenSocket | undefined;
  hubState: HubState;
  /** grows on every reconnect: pages reload what they show, to catch up on missed events */
  epoch: number;
  refreshMe(): Promise<void>;
  signOut(): Promise<void>;
  /** The server's message for a failure; a session that ended sends the user to sign in and back. */
  fail(err: unknown): string;
}

const Context = createContext<Session | undefined>(undefined);

/** Codes after which the stored session is no use: sign in again. */
const SESSION_GONE = new Set(["unauthorized", "invalid_token", "invalid_refresh_token", "refresh_reused"]);

export function signInPath(): string {
  const here = `${window.location.pathname}${window.location.search}`;
  return here.startsWith("/signin") ? "/signin/" : `/signin/?next=${encodeURIComponent(here)}`;
}

function deviceFor(userId: string): string {
  const key = `warren.device.${userId}`;
  let id = window.localStorage.getItem(key);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    id = `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    window.localStorage.setItem(key, id);
  }
  return id;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [client, setClient] = useState<Client | undefined>(undefined);
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | undefined>(undefined);
  const [hub, setHub] = useState<WarrenSocket | undefined>(undefined);
  const [hubState, setHubState] = useState<HubState>("offline");
  const [epoch, setEpoch] = useState(0);

  const expire = useCallback(() => {
    dropTokens();
    setMe(null);
    window.location.assign(signInPath());
  }, []);

  const loadMe = useCallback(async () => {
    const c = getClient();
    setClient(c);
    if (!c.tokens) {
      setMe(null);
      return;
    }
    try {
      setLoadError(undefined);
      setMe(await c.auth.me());
    } catch (err) {
      if (err instanceof WarrenError && SESSION_GONE.has(err.code)) {
        dropTokens();
        setMe(null);
      } else {
        // Not a verdict on the session (the server is down, say): keep it and say why.
        setLoadError(err instanceof Error ? err.message : String(err));
        setMe(undefined);
        return;
      }
    }
  }, []);

  useEffect(() => {
    void loadMe();
    return onSignedInChange((signedIn) => {
      if (signedIn) void loadMe();
    });
  }, [loadMe]);

  const device = me ? deviceFor(me.id) : undefined;

  // One socket per page, for the signed-in user and this browser's device.
  useEffect(() => {
    if (!me || !device) return;
    const socket = getClient().socket({ device });
    setHub(socket);
    setHubState("connecting");
    const offs = [
      socket.on("open", (e) => {
        setHubState("online");
        if (e.reconnected) setEpoch((n) => n + 1);
      }),
      socket.on("close", (e) => {
        setHubState(e.willReconnect ? "reconnecting" : "offline");
        if (!e.willReconnect && e.code === 4001) expire();
      }),
    ];
    socket.connect().catch(() => setHubState("reconnecting"));
    return () => {
      for (const off of offs) off();
      socket.close();
      setHub(undefined);
    };
  }, [me, device, expire]);

  // Stable across renders: pages list it in their effects' dependencies.
  const fail = useCallback(
    (err: unknown) => {
      if (err instanceof WarrenError) {
        if (SESSION_GONE.has(err.code) && getClient().tokens) expire();
        return err.message;
      }
      return err instanceof Error ? err.message : String(err);
    },
    [expire],
  );
  const signOut = useCallback(async () => {
    try {
      await getClient().auth.logout();
    } catch {
      // the session may be gone already; forgetting it here is what matters
    }
    dropTokens();
    setMe(null);
    window.location.assign("/signin/");
  }, []);

  const value = useMemo<Session | undefined>(() => {
    if (!client) return undefined;
    return { client, me, loadError, device, hub, hubState, epoch, refreshMe: loadMe, signOut, fail };
  }, [client, me, loadError, device, hub, hubState, epoch, loadMe, signOut, fail]);

  if (!value) return null;
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useSession(): Session {
  const value = useContext(Context);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}
