"use client";
import { useSearchParams } from "next/navigation";

/** Where to go after signing in: a same-site path from ?next=, else home. */
export function useNextPath(): string {
  const next = useSearchParams().get("next");
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/";
}

/** An id from the query string: static pages carry ids there, so deep links survive a reload. */
export function useParam(name: string): string | null {
  return useSearchParams().get(name);
}
