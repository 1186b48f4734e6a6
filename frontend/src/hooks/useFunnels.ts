"use client";

// The funnels and retention screens' queries: one hook per query, the whole request in its key
// (CONVENTIONS.md, "The dashboard"). The client is built from the app's services, beside the
// main API client.

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";

import { createFunnelsApi, type FunnelCreate, type FunnelUpdate, type RetentionPeriod } from "@/lib/funnels-api";
import { type DateRange, rangeQuery } from "@/lib/range";
import { useServices } from "@/lib/services";

export const funnelKeys = {
  funnels: (projectId: string) => ["funnels", projectId] as const,
  result: (projectId: string, funnelId: string, range: DateRange, tz: string) => ["funnel-result", projectId, funnelId, range, tz] as const,
  retention: (projectId: string, range: DateRange, tz: string, period: RetentionPeriod, returnEvent: string | null) =>
    ["retention", projectId, range, tz, period, returnEvent] as const,
};

export function useFunnelsApi() {
  const { config, session } = useServices();
  return useMemo(() => createFunnelsApi(config.apiUrl, session), [config.apiUrl, session]);
}

export function useFunnels(projectId: string) {
  const api = useFunnelsApi();
  return useQuery({ queryKey: funnelKeys.funnels(projectId), queryFn: () => api.listFunnels(projectId), enabled: !!projectId });
}

export function useFunnelResult(projectId: string, funnelId: string | null, range: DateRange, tz: string) {
  const api = useFunnelsApi();
  return useQuery({
    queryKey: funnelKeys.result(projectId, funnelId ?? "", range, tz),
    queryFn: () => api.funnelResult(projectId, funnelId ?? "", rangeQuery(range, tz)),
    enabled: !!projectId && !!funnelId,
    placeholderData: keepPreviousData,
  });
}

export function useRetention(projectId: string, range: DateRange, tz: string, period: RetentionPeriod, returnEvent: string | null) {
  const api = useFunnelsApi();
  return useQuery({
    queryKey: funnelKeys.retention(projectId, range, tz, period, returnEvent),
    queryFn: () => api.retention(projectId, rangeQuery(range, tz), period, returnEvent ?? undefined),
    enabled: !!projectId,
    placeholderData: keepPreviousData,
  });
}

export function useSaveFunnel(projectId: string) {
  const api = useFunnelsApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ funnelId, body }: { funnelId: string | null; body: FunnelCreate }) =>
      funnelId ? api.updateFunnel(projectId, funnelId, body as FunnelUpdate) : api.createFunnel(projectId, body),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: funnelKeys.funnels(projectId) });
      void client.invalidateQueries({ queryKey: ["funnel-result", projectId] });
    },
  });
}

export function useDeleteFunnel(projectId: string) {
  const api = useFunnelsApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (funnelId: string) => api.deleteFunnel(projectId, funnelId),
    onSuccess: () => void client.invalidateQueries({ queryKey: funnelKeys.funnels(projectId) }),
  });
}
