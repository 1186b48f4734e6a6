import { render, screen, within } from "@testing-library/react";
import { describe, expect, test } from "vitest";

import { RetentionTable, shade } from "./RetentionTable";

const data = {
  period: "day" as const,
  return_event: null,
  from: "2026-03-01T00:00:00Z",
  to: "2026-03-04T00:00:00Z",
  tz: "UTC",
  periods: ["2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"],
  cohorts: [
    { cohort: "2026-03-01T00:00:00Z", size: 4, counts: [4, 2, 1], shares: [1, 0.5, 0.25] },
    { cohort: "2026-03-02T00:00:00Z", size: 0, counts: [0, 0], shares: [0, 0] },
    { cohort: "2026-03-03T00:00:00Z", size: 2, counts: [2], shares: [1] },
  ],
};

describe("RetentionTable", () => {
  test("draws the triangle: a row per cohort, one cell fewer each row, shares and sizes", () => {
    render(<RetentionTable data={data} tz="UTC" />);
    const rows = screen.getAllByTestId("retention-row");
    expect(rows.map((r) => within(r).queryAllByTestId("retention-cell").length)).toEqual([3, 2, 1]);
    expect(within(rows[0]).getAllByTestId("retention-cell").map((c) => c.textContent)).toEqual(["100%", "50%", "25%"]);
    expect(within(rows[0]).getByRole("rowheader").textContent).toBe("1 Mar");
    expect(within(rows[0]).getAllByTestId("retention-cell")[1].getAttribute("title")).toBe("2 of 4");
    expect(within(rows[1]).getAllByTestId("retention-cell").map((c) => c.textContent)).toEqual(["—", "—"]);
    expect(screen.getByRole("columnheader", { name: "Day 2" })).toBeTruthy();
  });

  test("shades larger shares darker", () => {
    expect(shade(1).backgroundColor).toBe("rgba(29, 78, 216, 0.90)");
    expect(shade(0).backgroundColor).toBe("rgba(29, 78, 216, 0.08)");
    expect(shade(0.9).color).toBe("#fff");
  });

  test("the text of every share meets WCAG AA contrast (4.5:1) on its shade over white", () => {
    // A half share once got white text on a mid blue (2.2:1; axe-core failed the retention page)
    const channel = (c: number) => {
      const v = c / 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    const luminance = ([r, g, b]: number[]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    for (let i = 0; i <= 100; i++) {
      const { backgroundColor, color } = shade(i / 100);
      const [r, g, b, a] = backgroundColor.match(/[\d.]+/g)!.map(Number);
      const bg = [r, g, b].map((c) => c * a + 255 * (1 - a));
      expect(["#fff", "#000"]).toContain(color);
      const fg = color === "#fff" ? [255, 255, 255] : [0, 0, 0];
      const [hi, lo] = [luminance(bg), luminance(fg)].sort((x, y) => y - x);
      expect((hi + 0.05) / (lo + 0.05), `share ${i / 100}`).toBeGreaterThanOrEqual(4.5);
    }
  });
});
