"use client";
import { useEffect } from "react";
import { useSession } from "./session";

/**
 * Runs `load` when it changes and again after every hub reconnect, so a page catches up
 * on whatever it missed while the socket was down.
 */
export function useLoad(load: () => Promise<void> | void): void {
  const { epoch } = useSession();
  // biome-ignore lint/correctness/useExhaustiveDependencies: epoch is the reconnect signal itself
  useEffect(() => {
    void load();
  }, [load, epoch]);
}
