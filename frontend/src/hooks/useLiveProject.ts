"use client";

// The one WebSocket hook of a project page. It keeps the live feed (newest first, pause and
// resume), reports the connection's status, folds pushed events into the cached overview and
// the chart's current bucket, and refetches the live-range queries at most once per
// REFETCH_GAP_MS (trailing), so a burst of events never becomes a burst of requests.

import { type Query, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";

import type { Overview, Timeseries } from "@/lib/analytics-types";
import { addToOverview, addToTimeseries, mergeFeed } from "@/lib/live-cache";
import { type DateRange, rangeIsLive, todayIn } from "@/lib/range";
import { useServices } from "@/lib/services";
import { type LiveEvent, LiveSocket, type LiveStatus, type ServerMessage, tokensOf } from "@/lib/ws";

import { LIVE_KINDS } from "./queries";
import { followVisitors } from "./visitorsFollower";

export const REFETCH_GAP_MS = 5_000;
const FEED_MAX = 100;

export interface LiveProject {
  status: LiveStatus;
  feed: LiveEvent[];
  paused: boolean;
  pending: number;
  pause: () => void;
  resume: () => void;
}

export function useLiveProject(projectId: string, options: { WebSocketImpl?: typeof WebSocket } = {}): LiveProject {
  const { config, session } = useServices();
  const client = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [feed, setFeed] = useState<LiveEvent[]>([]);
  const [pendingFeed, setPendingFeed] = useState<LiveEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  const { WebSocketImpl } = options;

  useEffect(() => {
    if (!projectId) return;
    let refetchTimer: ReturnType<typeof setTimeout> | null = null;
    let lastRefetch = 0;

    const isLiveQuery = (query: Query) => {
      const [kind, id, range, tz] = query.queryKey as [string, string, unknown, unknown];
      if (id !== projectId || !(LIVE_KINDS as readonly string[]).includes(kind)) return false;
      const dateRange = (kind === "breakdown" ? tz : range) as DateRange | undefined;
      const zone = (kind === "breakdown" ? query.queryKey[4] : tz) as string;
      return !!dateRange && rangeIsLive(dateRange, todayIn(zone || "UTC"));
    };

    const scheduleRefetch = () => {
      if (refetchTimer !== null) return;
      const wait = Math.max(1_000, REFETCH_GAP_MS - (Date.now() - lastRefetch));
      refetchTimer = setTimeout(() => {
        refetchTimer = null;
        lastRefetch = Date.now();
        void client.invalidateQueries({ predicate: isLiveQuery });
      }, wait);
    };

    const onEvents = (events: LiveEvent[], backfill: boolean) => {
      if (pausedRef.current) setPendingFeed((current) => mergeFeed(current, events, FEED_MAX));
      else setFeed((current) => mergeFeed(current, events, FEED_MAX));
      if (backfill || events.length === 0) return; // already in what the queries fetched
      for (const query of client.getQueryCache().findAll({ predicate: isLiveQuery })) {
        const key = query.queryKey;
        // A filtered answer cannot take pushed events (they carry no visit dimensions): it is
        // refetched with the rest.
        const filtered = (key[0] === "overview" ? key[5] : key[6]) as string[] | undefined;
        if (filtered && filtered.length > 0) continue;
        if (key[0] === "overview") {
          client.setQueryData<Overview>(key, (old) => (old ? addToOverview(old, events, key[4] as string | null) : old));
        } else if (key[0] === "timeseries") {
          client.setQueryData<Timeseries>(key, (old) => (old ? addToTimeseries(old, events, key[5] as string | null) : old));
        }
      }
      scheduleRefetch();
    };

    let socket: LiveSocket | null = null;
    // Visitors now comes pushed when it changes, and is asked for again when it drops with time.
    const visitors = followVisitors(client, projectId, () => socket?.send({ action: "visitors_now" }));
    socket = new LiveSocket({
      url: config.wsUrl,
      projectId,
      getToken: tokensOf(session),
      onStatus: setStatus,
      onMessage: (message: ServerMessage) => {
        if (message.type === "events") onEvents(message.events, !!message.backfill);
        if (message.type === "visitors_now") visitors.onVisitors(message);
      },
      WebSocketImpl,
    });

    socket.start();
    return () => {
      socket?.stop();
      visitors.stop();
      if (refetchTimer !== null) clearTimeout(refetchTimer);
    };
  }, [projectId, config.wsUrl, session, client, WebSocketImpl]);

  const pause = useCallback(() => {
    pausedRef.current = true;
    setPaused(true);
  }, []);
  const resume = useCallback(() => {
    pausedRef.current = false;
    setPaused(false);
    setPendingFeed((pending) => {
      if (pending.length) setFeed((current) => mergeFeed(current, pending, FEED_MAX));
      return [];
    });
  }, []);

  return { status, feed, paused, pending: pendingFeed.length, pause, resume };
}
