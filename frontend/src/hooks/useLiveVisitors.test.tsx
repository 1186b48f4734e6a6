import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";

import { createApi } from "@/lib/api";
import { AuthSession } from "@/lib/auth";
import { ServicesContext } from "@/lib/services";

import { queryKeys } from "./queries";
import { useLiveVisitors } from "./useLiveVisitors";
import { FakeWebSocket } from "../test/fakes";

const PROJECT = "p-1";

function setup(wsUrl = "ws://x/live") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const session = new AuthSession({ apiUrl: "http://x", storage: null, fetch: vi.fn() as unknown as typeof fetch });
  const account = vi.spyOn(session, "accessToken").mockResolvedValue("account-jwt");
  const services = { config: { apiUrl: "http://x", wsUrl, sdkUrl: "http://x/sdk.js" }, session, api: createApi("http://x", session) };
  const share = { accessToken: vi.fn().mockResolvedValue("share-jwt"), refresh: vi.fn().mockResolvedValue("share-jwt-2") };
  const wrapper = ({ children }: { children: ReactNode }) => (
    <ServicesContext.Provider value={services}>
      <QueryClientProvider client={client}>{children}</QueryClientProvider>
    </ServicesContext.Provider>
  );
  const hook = renderHook(() => useLiveVisitors(PROJECT, share, { WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket }), { wrapper });
  return { client, hook, share, account };
}

const visitors = (n: number, next: string | null) => ({ type: "visitors_now", project_id: PROJECT, visitors: n, window_s: 300, at: new Date().toISOString(), next_change_at: next });

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  FakeWebSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe("useLiveVisitors (a share view)", () => {
  test("connects with the share session, never the account's token, and is live once open", async () => {
    const { hook, account } = setup();
    await act(() => vi.advanceTimersByTimeAsync(0));
    const ws = FakeWebSocket.last();
    expect(ws.url).toBe("ws://x/live?project_id=p-1&share_token=share-jwt");
    expect(account).not.toHaveBeenCalled();
    expect(hook.result.current).toBe("connecting");
    act(() => ws.open());
    expect(hook.result.current).toBe("live");
  });

  test("pushed visitors now lands in its query and is asked again when it drops with time", async () => {
    const { client } = setup();
    await act(() => vi.advanceTimersByTimeAsync(0));
    const ws = FakeWebSocket.last();
    act(() => ws.open());
    const leaves = new Date(Date.now() + 10_000).toISOString();
    act(() => ws.receive(visitors(7, leaves)));
    expect(client.getQueryData(queryKeys.visitorsNow(PROJECT))).toMatchObject({ visitors: 7 });
    const asked = () => ws.sent.filter((m) => (m as { action?: string }).action === "visitors_now").length;
    expect(asked()).toBe(0);
    await act(() => vi.advanceTimersByTimeAsync(10_500));
    expect(asked()).toBe(1);
  });

  test("a share session refused at the handshake is opened again for a fresh token", async () => {
    const { share } = setup();
    await act(() => vi.advanceTimersByTimeAsync(0));
    act(() => FakeWebSocket.last().onclose?.(new CloseEvent("close")));
    await act(() => vi.advanceTimersByTimeAsync(2_000));
    expect(share.refresh).toHaveBeenCalledTimes(1);
    expect(FakeWebSocket.last().url).toContain("share_token=share-jwt-2");
  });

  test("without a WebSocket URL it says closed (the view polls instead)", async () => {
    const { hook } = setup("");
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(hook.result.current).toBe("closed");
  });
});
