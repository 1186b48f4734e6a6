import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, test, vi } from "vitest";

import { createApi } from "@/lib/api";
import { AuthSession } from "@/lib/auth";
import { ServicesContext } from "@/lib/services";

import { BreakdownCard } from "./BreakdownCard";
import { FilterChips } from "./FilterChips";
import { fakeFetch, jsonResponse } from "../../test/fakes";

function answer(url: URL) {
  const dimension = url.searchParams.get("dimension") ?? "property";
  const counted = dimension.endsWith("_page") ? "sessions" : dimension === "property" ? "events" : "page_views";
  return {
    dimension,
    property: url.searchParams.get("property"),
    counted,
    items: [
      { value: dimension === "country" ? "DE" : "/pricing", count: 7, unique_sessions: 5, unique_users: 3 },
      { value: "other", count: 2, unique_sessions: 2, unique_users: 1 },
    ],
  };
}

function setup() {
  const { fetch, calls } = fakeFetch((r) => jsonResponse(200, answer(new URL(r.url))));
  const session = new AuthSession({ apiUrl: "http://x", storage: null, fetch });
  vi.spyOn(session, "accessToken").mockResolvedValue("jwt");
  const services = { config: { apiUrl: "http://x", wsUrl: "ws://x/live", sdkUrl: "http://x/sdk.js" }, session, api: createApi("http://x", session, fetch) };
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <ServicesContext.Provider value={services}>
      <QueryClientProvider client={client}>{children}</QueryClientProvider>
    </ServicesContext.Provider>
  );
  return { calls, wrapper };
}

describe("BreakdownCard", () => {
  test("asks for its dimension with the active filters, and a clicked row adds its filter", async () => {
    const { calls, wrapper } = setup();
    const onFilter = vi.fn();
    render(
      <BreakdownCard projectId="p-1" range={{ preset: "7d" }} tz="UTC" filters={["page:/pricing"]} initial="country" onFilter={onFilter} testId="b" />,
      { wrapper },
    );
    const table = await screen.findByTestId("b-table");
    const url = new URL(calls[calls.length - 1].url);
    expect(url.pathname).toBe("/api/v1/analytics/p-1/breakdown");
    expect(url.searchParams.get("dimension")).toBe("country");
    expect(url.searchParams.getAll("filter")).toEqual(["page:/pricing"]);
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Country", "Views", "Sessions", "Users"]);
    fireEvent.click(within(table).getByRole("button", { name: /DE/ }));
    expect(onFilter).toHaveBeenCalledWith("country:DE");
  });

  test("switches dimension; entry pages count sessions and their rows add no filter", async () => {
    const { calls, wrapper } = setup();
    render(<BreakdownCard projectId="p-1" range={{ preset: "7d" }} tz="UTC" filters={[]} initial="page" onFilter={vi.fn()} testId="b" />, { wrapper });
    await screen.findByTestId("b-table");
    fireEvent.change(screen.getByLabelText("Break down by"), { target: { value: "entry_page" } });
    await waitFor(() => expect(new URL(calls[calls.length - 1].url).searchParams.get("dimension")).toBe("entry_page"));
    const table = await screen.findByTestId("b-table");
    await waitFor(() => expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Entry page", "Sessions", "Users"]));
    expect(within(table).queryAllByRole("button")).toEqual([]);
  });

  test("breaks down by an event property by name, and its rows add prop filters", async () => {
    const { calls, wrapper } = setup();
    const onFilter = vi.fn();
    render(<BreakdownCard projectId="p-1" range={{ preset: "7d" }} tz="UTC" filters={[]} initial="page" onFilter={onFilter} testId="b" />, { wrapper });
    await screen.findByTestId("b-table");
    fireEvent.change(screen.getByLabelText("Break down by"), { target: { value: "property" } });
    fireEvent.change(screen.getByLabelText("Property name"), { target: { value: "plan" } });
    fireEvent.click(screen.getByRole("button", { name: "Show" }));
    await waitFor(() => expect(new URL(calls[calls.length - 1].url).searchParams.get("property")).toBe("plan"));
    const table = await screen.findByTestId("b-table");
    await waitFor(() => expect(within(table).getAllByRole("columnheader")[1].textContent).toBe("Events"));
    fireEvent.click(within(table).getByRole("button", { name: /other/ }));
    expect(onFilter).toHaveBeenCalledWith("prop.plan:other");
  });
});

describe("FilterChips", () => {
  test("shows each filter with a remove button, and clears all", () => {
    const onRemove = vi.fn();
    const onClear = vi.fn();
    render(<FilterChips filters={["country:DE", "prop.plan:pro"]} onRemove={onRemove} onClear={onClear} />);
    expect(screen.getByTestId("filter-chips").textContent).toContain("Country: DE");
    fireEvent.click(screen.getByRole("button", { name: "Remove filter plan: pro" }));
    expect(onRemove).toHaveBeenCalledWith("prop.plan:pro");
    fireEvent.click(screen.getByRole("button", { name: "Clear all" }));
    expect(onClear).toHaveBeenCalled();
  });

  test("renders nothing without filters", () => {
    const { container } = render(<FilterChips filters={[]} onRemove={vi.fn()} onClear={vi.fn()} />);
    expect(container.innerHTML).toBe("");
  });
});
