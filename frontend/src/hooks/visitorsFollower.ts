// Visitors now from a live socket, for any view that shows it: each pushed `visitors_now`
// message goes into the query cache; the count also drops with time alone (when the oldest
// session counted leaves the window), so it is asked for again then.

import type { QueryClient } from "@tanstack/react-query";

import type { VisitorsNow } from "@/lib/api";
import type { ServerMessage } from "@/lib/ws";

import { queryKeys } from "./queries";

type VisitorsMessage = Extract<ServerMessage, { type: "visitors_now" }>;

// The longest wait before asking again: a little over the 5-minute window.
const MAX_WAIT_MS = 5 * 60_000 + 1_000;

export interface VisitorsFollower {
  onVisitors: (message: VisitorsMessage) => void;
  stop: () => void;
}

/** Follow a project's visitors now: `ask` sends `visitors_now` on the socket. */
export function followVisitors(client: QueryClient, projectId: string, ask: () => void): VisitorsFollower {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const stop = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  const onVisitors = ({ visitors, window_s, at, next_change_at }: VisitorsMessage) => {
    client.setQueryData<VisitorsNow>(queryKeys.visitorsNow(projectId), { visitors, window_s, at, next_change_at });
    stop();
    if (next_change_at) {
      const wait = Math.max(250, Date.parse(next_change_at) - Date.now() + 250);
      timer = setTimeout(ask, Math.min(wait, MAX_WAIT_MS));
    }
  };
  return { onVisitors, stop };
}
