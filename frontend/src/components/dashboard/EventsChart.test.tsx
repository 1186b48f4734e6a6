import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, test, vi } from "vitest";

import { EventsChart } from "./EventsChart";

describe("EventsChart", () => {
  test("renders the series (Tremor on Recharts) and switches between hourly and daily", () => {
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
