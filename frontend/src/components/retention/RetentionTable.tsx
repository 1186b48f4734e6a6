"use client";

import { number } from "@/components/dashboard/format";
import type { Retention } from "@/lib/funnels-api";

const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });

export function periodLabel(iso: string, period: Retention["period"], tz: string): string {
  const day = new Intl.DateTimeFormat("en-GB", { timeZone: tz, day: "numeric", month: "short" }).format(new Date(iso));
  return period === "week" ? `Week of ${day}` : day;
}

const BLUE = [29, 78, 216];

/** WCAG's relative luminance of an sRGB colour. */
function luminance(rgb: number[]): number {
  const [r, g, b] = rgb.map((c) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** A cell's shade: darker blue for a larger share, and the text colour (white or black) that
 *  contrasts more with it on the page's white: at least 4.58:1 whatever the shade (WCAG AA asks
 *  4.5). A fixed share threshold gave white text on a mid blue (2.2:1); with gray-900 instead of
 *  black, the shades in the middle reach 4.09:1 at best. */
export function shade(share: number): { backgroundColor: string; color: string } {
  const alpha = Number((0.08 + Math.max(0, Math.min(1, share)) * 0.82).toFixed(2));
  const bg = luminance(BLUE.map((c) => c * alpha + 255 * (1 - alpha)));
  const onWhite = 1.05 / (bg + 0.05);
  const onBlack = (bg + 0.05) / 0.05;
  return { backgroundColor: `rgba(${BLUE.join(", ")}, ${alpha.toFixed(2)})`, color: onWhite > onBlack ? "#fff" : "#000" };
}

/** The cohort triangle: a row per cohort (first-seen period), its size, then the share of it
 * active in each later period; cells shaded by share. */
export function RetentionTable({ data, tz }: { data: Retention; tz: string }) {
  const width = data.periods.length;
  const unit = data.period === "day" ? "Day" : "Week";
  return (
    <div className="overflow-x-auto">
      <table className="w-full border-separate border-spacing-0.5 text-sm" data-testid="retention-table">
        <caption className="sr-only">
          Retention by first-seen {data.period}
          {data.return_event ? `, returning with ${data.return_event}` : ""}
        </caption>
        <thead className="text-gray-600">
          <tr>
            <th scope="col" className="px-2 py-1 text-left">Cohort</th>
            <th scope="col" className="px-2 py-1 text-right">Users</th>
            {Array.from({ length: width }, (_, n) => (
              <th key={n} scope="col" className="px-2 py-1 text-right">
                {unit} {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.cohorts.map((c) => (
            <tr key={c.cohort} data-testid="retention-row">
              <th scope="row" className="whitespace-nowrap px-2 py-1 text-left font-normal">
                {periodLabel(c.cohort, data.period, tz)}
              </th>
              <td className="px-2 py-1 text-right tabular-nums">{number.format(c.size)}</td>
              {Array.from({ length: width }, (_, n) =>
                n < c.counts.length ? (
                  <td
                    key={n}
                    className="rounded px-2 py-1 text-right tabular-nums"
                    style={c.size ? shade(c.shares[n]) : undefined}
                    title={`${number.format(c.counts[n])} of ${number.format(c.size)}`}
                    data-testid="retention-cell"
                  >
                    {c.size ? percent.format(c.shares[n]) : "—"}
                  </td>
                ) : (
                  <td key={n} aria-hidden="true" />
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
