import { render, screen, within } from "@testing-library/react";
import { describe, expect, test } from "vitest";

import FunnelBarChart from "./FunnelBarChart";
import { FunnelResultView } from "./FunnelResultView";

const result = {
  funnel_id: "f-1",
  by: "session" as const,
  window: "1d",
  from: "2026-03-01T00:00:00Z",
  to: "2026-03-08T00:00:00Z",
  steps: [
    { step: { event: "page_view", page: "/pricing", property: null }, count: 200, conversion_from_first: 1, conversion_from_previous: 1, drop_off: 0, median_seconds_from_previous: null },
    { step: { event: "signup", page: null, property: { key: "plan", value: "pro" } }, count: 50, conversion_from_first: 0.25, conversion_from_previous: 0.25, drop_off: 150, median_seconds_from_previous: 95 },
  ],
};

describe("FunnelResultView", () => {
  test("the Tremor bar chart mounts in jsdom", () => {
    const { container } = render(<FunnelBarChart data={[{ step: "1. a", Reached: 3 }]} />);
    expect(container.querySelector(".recharts-responsive-container")).not.toBeNull();
  });

  test("shows each step's count, conversions, drop-off and median time", () => {
    render(<FunnelResultView result={result} />);
    const rows = screen.getAllByTestId("funnel-step-row");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByRole("rowheader").textContent).toBe("1. page_view on /pricing");
    const second = within(rows[1]).getAllByRole("cell").map((c) => c.textContent);
    expect(within(rows[1]).getByRole("rowheader").textContent).toBe("2. signup plan = pro");
    expect(second).toEqual(["50", "25%", "25%", "150", "1m 35s"]);
    expect(screen.getByTestId("funnel-summary").textContent).toContain("25% of 200 sessions converted");
  });
});
