import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";

import { backoffDelay, LiveSocket, type LiveStatus, type ServerMessage } from "./ws";
import { FakeWebSocket } from "../test/fakes";

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => vi.useRealTimers());

function start(overrides: { random?: () => number; tokens?: string[] } = {}) {
  const statuses: LiveStatus[] = [];
  const messages: ServerMessage[] = [];
  const tokenCalls: boolean[] = [];
  let n = 0;
  const socket = new LiveSocket({
    url: "ws://127.0.0.1:8001/live",
    projectId: "p-1",
    getToken: async (fresh) => {
      tokenCalls.push(fresh);
      return overrides.tokens?.[n++] ?? `token-${n++}`;
    },
    onMessage: (m) => messages.push(m),
    onStatus: (s) => statuses.push(s),
    WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket,
    random: overrides.random ?? (() => 0.5),
    baseDelayMs: 1_000,
    maxDelayMs: 30_000,
  });
  socket.start();
  return { socket, statuses, messages, tokenCalls };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe("the live connection", () => {
  test("connects with the project and token in the query string, then asks for backfill", async () => {
    const { statuses } = start({ tokens: ["jwt-a"] });
    await flush();
    const ws = FakeWebSocket.last();
    expect(ws.url).toBe("ws://127.0.0.1:8001/live?project_id=p-1&token=jwt-a");
    ws.open();
    expect(ws.sent).toEqual([{ action: "backfill", project_id: "p-1", limit: 50 }]);
    expect(statuses).toEqual(["live"]); // it starts as "connecting"
  });

  test("passes server messages on; ignores what is not JSON", async () => {
    const { messages } = start();
    await flush();
    const ws = FakeWebSocket.last();
    ws.open();
    ws.onmessage?.(new MessageEvent("message", { data: "not json" }));
    ws.receive({ type: "events", project_id: "p-1", events: [] });
    expect(messages).toEqual([{ type: "events", project_id: "p-1", events: [] }]);
  });

  test("backoff doubles up to the cap, with jitter in the upper half", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, 1_000, 30_000, () => 0))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
    expect([0, 1, 5].map((a) => backoffDelay(a, 1_000, 30_000, () => 1))).toEqual([1_000, 2_000, 30_000]);
    expect(backoffDelay(2, 1_000, 30_000, () => 0.5)).toBe(3_000);
  });

  test("reconnects after a drop with growing delays, and asks for backfill again", async () => {
    const { statuses } = start({ random: () => 0 });
    await flush();
    FakeWebSocket.last().open();
    FakeWebSocket.last().drop();
    expect(statuses.at(-1)).toBe("reconnecting");
    // attempt 0: 500 ms
    await vi.advanceTimersByTimeAsync(499);
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    FakeWebSocket.last().drop(); // refused before opening
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeWebSocket.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1); // attempt 1: 1,000 ms
    expect(FakeWebSocket.instances).toHaveLength(3);
    FakeWebSocket.last().open();
    expect(FakeWebSocket.last().sent).toEqual([{ action: "backfill", project_id: "p-1", limit: 50 }]);
    expect(statuses.at(-1)).toBe("live");
    // a success resets the backoff
    FakeWebSocket.last().drop();
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeWebSocket.instances).toHaveLength(4);
  });

  test("a handshake refused before opening (expired token) gets a fresh token once", async () => {
    const { tokenCalls } = start({ random: () => 0 });
    await flush();
    FakeWebSocket.last().drop(); // never opened: maybe a 401
    await vi.advanceTimersByTimeAsync(500);
    FakeWebSocket.last().drop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(tokenCalls).toEqual([false, true, false]);
  });

  test("a failing token source is retried with backoff, not in a tight loop", async () => {
    let calls = 0;
    const socket = new LiveSocket({
      url: "ws://x/live",
      projectId: "p",
      getToken: async () => {
        calls += 1;
        throw new Error("offline");
      },
      onMessage: () => {},
      onStatus: () => {},
      WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket,
      random: () => 0,
    });
    socket.start();
    await vi.advanceTimersByTimeAsync(1_400); // 500 + 1,000 − a little
    expect(calls).toBe(2);
    socket.stop();
  });

  test("pings every few minutes so the API does not close it as idle", async () => {
    start();
    await flush();
    const ws = FakeWebSocket.last();
    ws.open();
    await vi.advanceTimersByTimeAsync(4 * 60_000);
    expect(ws.sent.at(-1)).toEqual({ action: "ping" });
  });

  test("stop closes the socket and never reconnects", async () => {
    const { socket, statuses } = start();
    await flush();
    const ws = FakeWebSocket.last();
    ws.open();
    socket.stop();
    expect(ws.closedWith).toBe(1000);
    ws.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(statuses.at(-1)).toBe("closed");
  });
});
