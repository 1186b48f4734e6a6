import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";

import type { Overview, Timeseries } from "@/lib/analytics-types";
import { createApi } from "@/lib/api";
import { AuthSession } from "@/lib/auth";
import { ServicesContext } from "@/lib/services";

import { queryKeys } from "./queries";
import { REFETCH_GAP_MS, useLiveProject } from "./useLiveProject";
import { FakeWebSocket } from "../test/fakes";

const PROJECT = "p-1";
const overview: Overview = {
  total_events: 10,
  unique_sessions: 2,
  unique_users: 2,
  top_event: { name: "page_view", count: 6 },
  previous: { total_events: 0, unique_sessions: 0, unique_users: 0, top_event: null },
};

function setup() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const session = new AuthSession({ apiUrl: "http://x", storage: null, fetch: vi.fn() as unknown as typeof fetch });
  vi.spyOn(session, "accessToken").mockResolvedValue("jwt");
  const services = { config: { apiUrl: "http://x", wsUrl: "ws://x/live", sdkUrl: "http://x/sdk.js" }, session, api: createApi("http://x", session) };
  const wrapper = ({ children }: { children: ReactNode }) => (
    <ServicesContext.Provider value={services}>
      <QueryClientProvider client={client}>{children}</QueryClientProvider>
    </ServicesContext.Provider>
  );
  const liveKey = queryKeys.overview(PROJECT, { preset: "7d" }, "UTC", null);
  const pastKey = queryKeys.overview(PROJECT, { preset: "custom", from: "2020-01-01", to: "2020-01-31" }, "UTC", null);
  const now = new Date();
  const seriesKey = queryKeys.timeseries(PROJECT, { preset: "24h" }, "UTC", "hour", null);
  const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000).toISOString();
  client.setQueryData(liveKey, overview);
  client.setQueryData(pastKey, overview);
  client.setQueryData<Timeseries>(seriesKey, { interval: "hour", points: [{ bucket: hour, count: 3, unique_sessions: 1 }] });
  const hook = renderHook(() => useLiveProject(PROJECT, { WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket }), { wrapper });
  return { client, hook, liveKey, pastKey, seriesKey };
}

const event = (uuid: string, name = "page_view") => ({
  uuid,
  event: name,
  properties: { path: "/" },
  distinct_id: "u1",
  session_id: "s1",
  page_url: "http://shop.example/",
  timestamp: new Date().toISOString(),
});

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  FakeWebSocket.reset();
});
afterEach(() => vi.useRealTimers());

async function connected() {
  await act(() => vi.advanceTimersByTimeAsync(0));
  const ws = FakeWebSocket.last();
  act(() => ws.open());
  return ws;
}

describe("useLiveProject", () => {
  test("one connection; live once open; backfill fills the feed without touching the cache", async () => {
    const { hook, client, liveKey } = setup();
    const ws = await connected();
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(hook.result.current.status).toBe("live");
    act(() => ws.receive({ type: "events", project_id: PROJECT, backfill: true, events: [event("b1"), event("b2")] }));
    expect(hook.result.current.feed.map((e) => e.uuid).sort()).toEqual(["b1", "b2"]);
    expect(client.getQueryData<Overview>(liveKey)?.total_events).toBe(10);
  });

  test("pushed events tick up live cards and the current bucket, not a past range", async () => {
    const { client, liveKey, pastKey, seriesKey } = setup();
    const ws = await connected();
    act(() => ws.receive({ type: "events", project_id: PROJECT, events: [event("e1"), event("e2", "signup")] }));
    expect(client.getQueryData<Overview>(liveKey)).toMatchObject({ total_events: 12, top_event: { name: "page_view", count: 7 } });
    expect(client.getQueryData<Overview>(pastKey)?.total_events).toBe(10);
    expect(client.getQueryData<Timeseries>(seriesKey)?.points[0].count).toBe(5);
  });

  test("a filtered answer takes no pushed events (they carry no country): it waits for its refetch", async () => {
    const { client } = setup();
    const filteredKey = queryKeys.overview(PROJECT, { preset: "7d" }, "UTC", null, ["country:DE"]);
    const filteredSeries = queryKeys.timeseries(PROJECT, { preset: "24h" }, "UTC", "hour", null, ["country:DE"]);
    client.setQueryData(filteredKey, overview);
    client.setQueryData<Timeseries>(filteredSeries, { interval: "hour", points: [{ bucket: new Date().toISOString(), count: 3, unique_sessions: 1 }] });
    const ws = await connected();
    act(() => ws.receive({ type: "events", project_id: PROJECT, events: [event("e1")] }));
    expect(client.getQueryData<Overview>(filteredKey)?.total_events).toBe(10);
    expect(client.getQueryData<Timeseries>(filteredSeries)?.points[0].count).toBe(3);
  });

  test("a burst of events refetches at most once per gap", async () => {
    const { client } = setup();
    const invalidate = vi.spyOn(client, "invalidateQueries").mockResolvedValue();
    const ws = await connected();
    for (let i = 0; i < 20; i += 1) {
      act(() => ws.receive({ type: "events", project_id: PROJECT, events: [event(`e${i}`)] }));
      await act(() => vi.advanceTimersByTimeAsync(100));
    }
    expect(invalidate).toHaveBeenCalledTimes(1); // 2 s of events: the first refetch went at 1 s
    await act(() => vi.advanceTimersByTimeAsync(REFETCH_GAP_MS));
    expect(invalidate).toHaveBeenCalledTimes(2); // the trailing one, a gap later
    await act(() => vi.advanceTimersByTimeAsync(REFETCH_GAP_MS * 3));
    expect(invalidate).toHaveBeenCalledTimes(2); // quiet: nothing more
  });

  test("pause holds new events back; resume shows them", async () => {
    const { hook } = setup();
    const ws = await connected();
    act(() => hook.result.current.pause());
    act(() => ws.receive({ type: "events", project_id: PROJECT, events: [event("e1")] }));
    expect(hook.result.current.feed).toEqual([]);
    expect(hook.result.current.pending).toBe(1);
    act(() => hook.result.current.resume());
    expect(hook.result.current.feed.map((e) => e.uuid)).toEqual(["e1"]);
    expect(hook.result.current.pending).toBe(0);
  });

  test("reconnecting is shown after a drop, and unmount closes the socket", async () => {
    const { hook } = setup();
    const ws = await connected();
    act(() => ws.drop());
    expect(hook.result.current.status).toBe("reconnecting");
    await act(() => vi.advanceTimersByTimeAsync(2_000));
    const second = FakeWebSocket.last();
    expect(second).not.toBe(ws);
    hook.unmount();
    expect(second.closedWith).toBe(1000);
  });

  test("visitors now lands in its query and is asked again when the oldest session leaves", async () => {
    const { client } = setup();
    const ws = await connected();
    const leaves = new Date(Date.now() + 30_000).toISOString();
    act(() =>
      ws.receive({ type: "visitors_now", project_id: PROJECT, visitors: 4, window_s: 300, at: new Date().toISOString(), next_change_at: leaves }),
    );
    expect(client.getQueryData(queryKeys.visitorsNow(PROJECT))).toMatchObject({ visitors: 4, next_change_at: leaves });
    const asked = () => ws.sent.filter((m) => (m as { action?: string }).action === "visitors_now").length;
    await act(() => vi.advanceTimersByTimeAsync(29_000));
    expect(asked()).toBe(0);
    await act(() => vi.advanceTimersByTimeAsync(2_000));
    expect(asked()).toBe(1);
    // nobody left to leave: no timer
    act(() => ws.receive({ type: "visitors_now", project_id: PROJECT, visitors: 0, window_s: 300, at: new Date().toISOString(), next_change_at: null }));
    expect(client.getQueryData(queryKeys.visitorsNow(PROJECT))).toMatchObject({ visitors: 0 });
    await act(() => vi.advanceTimersByTimeAsync(10 * 60_000));
    expect(asked()).toBe(1);
  });
});
