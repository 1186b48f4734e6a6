import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, test, vi } from "vitest";

import EventsAreaChart from "./EventsAreaChart";
import { EventsChart } from "./EventsChart";

describe("EventsChart", () => {
  test("the Tremor area chart mounts in jsdom (Recharts with the ResizeObserver stub)", () => {
    const { container } = render(<EventsAreaChart data={[{ bucket: "Mar 1", Events: 4, Sessions: 2 }]} />);
    expect(container.querySelector(".recharts-responsive-container")).not.toBeNull();
  });

  test("renders the series as a table too and switches between hourly and daily", () => {
    const onInterval = vi.fn();
    render(
      <EventsChart
        tz="UTC"
        interval="day"
        onInterval={onInterval}
        series={{
          interval: "day",
          points: [
            { bucket: "2026-03-01T00:00:00+00:00", count: 4, unique_sessions: 2 },
            { bucket: "2026-03-02T00:00:00+00:00", count: 6, unique_sessions: 3 },
          ],
        }}
      />,
    );
    expect(screen.getByTestId("chart-total").textContent).toBe("10 events in the chart");
    expect(screen.getByRole("button", { name: "Daily" }).getAttribute("aria-pressed")).toBe("true");
    fireEvent.click(screen.getByRole("button", { name: "Hourly" }));
    expect(onInterval).toHaveBeenCalledWith("hour");
  });
});
