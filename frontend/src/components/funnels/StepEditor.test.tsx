import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, test, vi } from "vitest";

import { MAX_STEPS, newDraft, StepEditor } from "./StepEditor";

const type = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });

describe("StepEditor", () => {
  test("builds the API's body from the steps, window and unit", () => {
    const onSave = vi.fn();
    render(<StepEditor initial={newDraft()} onSave={onSave} />);
    type("funnel-name", "Pricing to signup");
    type("step-0-page", "/pricing");
    type("step-1-event", "signup");
    fireEvent.change(screen.getByLabelText("Step 2 property (optional)"), { target: { value: "plan" } });
    fireEvent.change(screen.getByLabelText("Step 2 property value"), { target: { value: "pro" } });
    fireEvent.change(screen.getByLabelText("Window"), { target: { value: "7d" } });
    fireEvent.change(screen.getByLabelText("Count"), { target: { value: "user" } });
    fireEvent.click(screen.getByRole("button", { name: "Save funnel" }));
    expect(onSave).toHaveBeenCalledWith({
      name: "Pricing to signup",
      window: "7d",
      by: "user",
      steps: [
        { event: "page_view", page: "/pricing", property: null },
        { event: "signup", page: null, property: { key: "plan", value: "pro" } },
      ],
    });
  });

  test("says what is missing and does not save", () => {
    const onSave = vi.fn();
    render(<StepEditor initial={newDraft()} onSave={onSave} />);
    type("step-0-page", "pricing");
    fireEvent.click(screen.getByRole("button", { name: "Save funnel" }));
    expect(onSave).not.toHaveBeenCalled();
    expect(screen.getByText("Give the funnel a name")).toBeTruthy();
    expect(screen.getByText("Name the event")).toBeTruthy();
    expect(screen.getByText("A path starts with /")).toBeTruthy();
  });

  test("adds up to six steps, keeps two, and reorders them", () => {
    render(<StepEditor initial={newDraft()} onSave={() => {}} />);
    const add = screen.getByRole("button", { name: "Add step" });
    for (let i = 0; i < 10; i++) fireEvent.click(add);
    expect(screen.getAllByTestId("step-editor")).toHaveLength(MAX_STEPS);
    expect((add as HTMLButtonElement).disabled).toBe(true);
    for (let i = MAX_STEPS; i > 2; i--) fireEvent.click(screen.getByRole("button", { name: `Remove step ${i}` }));
    expect(screen.getAllByTestId("step-editor")).toHaveLength(2);
    expect((screen.getByRole("button", { name: "Remove step 1" }) as HTMLButtonElement).disabled).toBe(true);
    type("step-1-event", "signup");
    fireEvent.click(screen.getByRole("button", { name: "Move step 2 up" }));
    expect((screen.getByTestId("step-0-event") as HTMLInputElement).value).toBe("signup");
    expect((screen.getByTestId("step-1-event") as HTMLInputElement).value).toBe("page_view");
  });
});
