import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, test, vi } from "vitest";

import { RangePicker } from "./RangePicker";

describe("RangePicker", () => {
  test("a preset applies at once; a custom range only when valid, on Apply", () => {
    const onChange = vi.fn();
    render(<RangePicker value={{ preset: "7d" }} onChange={onChange} today="2026-03-10" />);
    fireEvent.change(screen.getByLabelText("Date range"), { target: { value: "30d" } });
    expect(onChange).toHaveBeenLastCalledWith({ preset: "30d" });

    fireEvent.change(screen.getByLabelText("Date range"), { target: { value: "custom" } });
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-03-05" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2026-03-01" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(screen.getByRole("alert").textContent).toMatch(/start must not be after the end/);
    expect(onChange).toHaveBeenCalledTimes(1);

    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2026-03-08" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(onChange).toHaveBeenLastCalledWith({ preset: "custom", from: "2026-03-05", to: "2026-03-08" });
  });
});
