"use client";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import de from "../messages/de.json";
import en from "../messages/en.json";

export type MessageKey = keyof typeof en;
export const catalogues = { en, de } as const;
export type Locale = keyof typeof catalogues;
export const LOCALES = Object.keys(catalogues) as Locale[];
const LOCALE_KEY = "warren.locale";

export type Translate = (key: string, vars?: Record<string, string | number>) => string;

interface I18n {
  locale: Locale;
  setLocale(locale: Locale): void;
  t: Translate;
  formatDate(value: string | number | Date | null | undefined): string;
  formatNumber(value: number): string;
  formatRelative(value: string | null | undefined): string;
}

const Context = createContext<I18n | undefined>(undefined);

/** "{name}" placeholders are replaced by vars; a missing key shows the key itself. */
export function translate(locale: Locale, key: string, vars?: Record<string, string | number>): string {
  const text = (catalogues[locale] as Record<string, string>)[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    vars[name] === undefined ? whole : String(vars[name]),
  );
}

function initialLocale(): Locale {
  const saved = window.localStorage.getItem(LOCALE_KEY);
  if (saved && saved in catalogues) return saved as Locale;
  const browser = navigator.language.slice(0, 2);
  return browser in catalogues ? (browser as Locale) : "en";
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>("en");
  useEffect(() => setLocaleState(initialLocale()), []);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const setLocale = useCallback((next: Locale) => {
    window.localStorage.setItem(LOCALE_KEY, next);
    setLocaleState(next);
  }, []);
  const value = useMemo<I18n>(() => {
    const dates = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
    const numbers = new Intl.NumberFormat(locale);
    const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
    return {
      locale,
      setLocale,
      t: (key, vars) => translate(locale, key, vars),
      formatDate: (v) => (v === null || v === undefined ? "—" : dates.format(new Date(v))),
      formatNumber: (v) => numbers.format(v),
      formatRelative(v) {
        if (!v) return "—";
        const seconds = Math.round((new Date(v).getTime() - Date.now()) / 1000);
        for (const [unit, size] of UNITS) {
          if (Math.abs(seconds) >= size || unit === "second") {
            return relative.format(Math.round(seconds / size), unit);
          }
        }
        return "—";
      },
    };
  }, [locale, setLocale]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(Context);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
