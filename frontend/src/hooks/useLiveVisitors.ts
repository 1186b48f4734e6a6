"use client";

// Visitors now of a share link's project, pushed on the WebSocket API with the link's share
// session (`share_token`): the live feed gives such a connection visitors now and nothing else.

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { useServices } from "@/lib/services";
import { LiveSocket, type LiveStatus, type TokenSource, tokensOf } from "@/lib/ws";

import { followVisitors } from "./visitorsFollower";

export function useLiveVisitors(projectId: string, share: TokenSource, options: { WebSocketImpl?: typeof WebSocket } = {}): LiveStatus {
  const { config } = useServices();
  const client = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const { WebSocketImpl } = options;

  useEffect(() => {
    if (!projectId || !config.wsUrl) {
      setStatus("closed");
      return;
    }
    let socket: LiveSocket | null = null;
    const visitors = followVisitors(client, projectId, () => socket?.send({ action: "visitors_now" }));
    socket = new LiveSocket({
      url: config.wsUrl,
      projectId,
      tokenParam: "share_token",
      getToken: tokensOf(share),
      onStatus: setStatus,
      onMessage: (message) => {
        if (message.type === "visitors_now") visitors.onVisitors(message);
      },
      WebSocketImpl,
    });
    socket.start();
    return () => {
      socket?.stop();
      visitors.stop();
    };
  }, [projectId, config.wsUrl, share, client, WebSocketImpl]);

  return status;
}
