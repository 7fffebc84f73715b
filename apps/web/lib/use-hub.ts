"use client";
import type { SocketEvents } from "@warren/sdk";
import { useEffect, useRef } from "react";
import { useSession } from "./session";

/** Listens to one kind of hub frame on the page's socket while the component is mounted. */
export function useHub<K extends keyof SocketEvents>(
  type: K,
  handler: (event: SocketEvents[K]) => void,
): void {
  const { hub } = useSession();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!hub) return;
    return hub.on(type, (e) => ref.current(e));
  }, [hub, type]);
}
