import { render, screen, within } from "@testing-library/react";
import { describe, expect, test } from "vitest";

import { change } from "./format";
import { MetricCards } from "./MetricCards";

describe("MetricCards", () => {
  test("shows the four numbers and their change against the previous period", () => {
    render(
      <MetricCards
        overview={{
          total_events: 1234,
          unique_sessions: 50,
          unique_users: 40,
          top_event: { name: "page_view", count: 900 },
          previous: { total_events: 1000, unique_sessions: 50, unique_users: 80, top_event: { name: "signup", count: 3 } },
        }}
      />,
    );
    const card = (name: string) => within(screen.getByRole("region", { name }));
    expect(card("Total events").getByTestId("card-events-value").textContent).toBe("1,234");
    expect(card("Total events").getByText(/\+23%/)).toBeTruthy();
    expect(card("Unique sessions").getByText(/^0%/)).toBeTruthy();
    expect(card("Unique users").getByText(/-50%/)).toBeTruthy();
    expect(card("Top event").getByTestId("card-top-value").textContent).toBe("page_view");
    expect(card("Top event").getByText(/900 times \(before: signup, 3\)/)).toBeTruthy();
  });

  test("tells how many bot events were filtered out, when there were any", () => {
    const counts = { total_events: 10, unique_sessions: 2, unique_users: 1, top_event: null };
    const { unmount } = render(<MetricCards overview={{ ...counts, bots_filtered: 1234, previous: counts }} />);
    expect(within(screen.getByRole("region", { name: "Total events" })).getByText("1,234 bot events filtered out")).toBeTruthy();
    unmount();
    render(<MetricCards overview={{ ...counts, bots_filtered: 0, previous: counts }} />);
    expect(within(screen.getByRole("region", { name: "Total events" })).queryByText(/bot events/)).toBeNull();
  });

  test("change: new from nothing, flat at nothing", () => {
    expect(change(5, 0)).toEqual({ text: "new", direction: "up" });
    expect(change(0, 0)).toEqual({ text: "no change", direction: "flat" });
    expect(change(95, 100)).toEqual({ text: "-5.0%", direction: "down" });
  });
});
