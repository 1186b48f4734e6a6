export const number = new Intl.NumberFormat("en-US");

/** Change against the previous period, as text and a direction. */
export function change(current: number, previous: number): { text: string; direction: "up" | "down" | "flat" } {
  if (previous === 0) return current === 0 ? { text: "no change", direction: "flat" } : { text: "new", direction: "up" };
  const pct = ((current - previous) / previous) * 100;
  if (Math.abs(pct) < 0.05) return { text: "0%", direction: "flat" };
  return { text: `${pct > 0 ? "+" : ""}${pct.toFixed(Math.abs(pct) < 10 ? 1 : 0)}%`, direction: pct > 0 ? "up" : "down" };
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m ${s}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function dateTime(iso: string, tz: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: tz, dateStyle: "medium", timeStyle: "medium" }).format(new Date(iso));
}

export function time(iso: string, tz: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: tz, timeStyle: "medium" }).format(new Date(iso));
}

/** A bucket's label: its hour or its day, in tz. */
export function bucketLabel(iso: string, interval: "hour" | "day", tz: string): string {
  const options: Intl.DateTimeFormatOptions =
    interval === "hour"
      ? { timeZone: tz, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false }
      : { timeZone: tz, month: "short", day: "numeric" };
  return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso));
}

export function pathOf(url: string | null): string {
  if (!url) return "—";
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}
