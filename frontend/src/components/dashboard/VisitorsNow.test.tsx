import { render, screen } from "@testing-library/react";
import { describe, expect, test } from "vitest";

import { VisitorsNowCard } from "./VisitorsNow";

describe("VisitorsNowCard", () => {
  test("shows the count, or a placeholder before it is known", () => {
    const { rerender } = render(<VisitorsNowCard data={undefined} />);
    expect(screen.getByTestId("visitors-now-value").textContent).toBe("…");
    rerender(<VisitorsNowCard data={{ visitors: 1234, window_s: 300, at: "2026-11-30T12:00:00Z", next_change_at: null }} />);
    expect(screen.getByTestId("visitors-now-value").textContent).toBe("1,234");
    expect(screen.getByText("sessions active in the last 5 minutes")).toBeTruthy();
  });
});
