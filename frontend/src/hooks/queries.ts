"use client";

// One hook per query, the whole request in its key (docs: CONVENTIONS.md, "The dashboard").
// Components render what these return and never fetch. The live hook (useLiveProject) edits
// and invalidates these same keys.

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import type { Interval } from "@/lib/analytics-types";
import type { CsvReport, EventFilters, Project, ProjectCreate, ProjectUpdate, ShareLinkCreate } from "@/lib/api";
import type { BreakdownSpec } from "@/lib/filters";
import { type DateRange, rangeQuery } from "@/lib/range";
import { useServices } from "@/lib/services";

export const queryKeys = {
  projects: () => ["projects"] as const,
  project: (projectId: string) => ["project", projectId] as const,
  // `filters` (the dashboard's field:value filters) come last: the live hook folds pushed
  // events only into unfiltered keys.
  overview: (projectId: string, range: DateRange, tz: string, event: string | null, filters: string[] = []) =>
    ["overview", projectId, range, tz, event, filters] as const,
  timeseries: (projectId: string, range: DateRange, tz: string, interval: Interval, event: string | null, filters: string[] = []) =>
    ["timeseries", projectId, range, tz, interval, event, filters] as const,
  topEvents: (projectId: string, range: DateRange, tz: string, filters: string[] = []) =>
    ["top-events", projectId, range, tz, filters] as const,
  breakdown: (projectId: string, spec: BreakdownSpec, range: DateRange, tz: string, filters: string[] = []) =>
    ["breakdown", projectId, spec, range, tz, filters] as const,
  sessions: (projectId: string, range: DateRange, tz: string, cursor: string | null, filters: string[] = []) =>
    ["sessions", projectId, range, tz, cursor, filters] as const,
  users: (projectId: string, range: DateRange, tz: string, cursor: string | null, filters: string[] = []) =>
    ["users", projectId, range, tz, cursor, filters] as const,
  user: (projectId: string, distinctId: string, range: DateRange, tz: string, cursor: string | null) =>
    ["user", projectId, distinctId, range, tz, cursor] as const,
  events: (projectId: string, range: DateRange, tz: string, filters: EventFilters, cursor: string | null, filter: string[] = []) =>
    ["events", projectId, range, tz, filters, cursor, filter] as const,
  visitorsNow: (projectId: string) => ["visitors-now", projectId] as const,
  shareLinks: (projectId: string) => ["share-links", projectId] as const,
};

/** The query kinds whose numbers grow with live events (refetched, throttled, by the live hook). */
export const LIVE_KINDS = ["overview", "timeseries", "top-events", "breakdown", "sessions", "users", "events"] as const;

export function useProjects() {
  const { api } = useServices();
  return useQuery({ queryKey: queryKeys.projects(), queryFn: () => api.listProjects() });
}

export function useProject(projectId: string) {
  const { api } = useServices();
  return useQuery({ queryKey: queryKeys.project(projectId), queryFn: () => api.getProject(projectId), enabled: !!projectId });
}

export function useOverview(projectId: string, range: DateRange, tz: string, event: string | null = null, filters: string[] = []) {
  const { api } = useServices();
  return useQuery({
    queryKey: queryKeys.overview(projectId, range, tz, event, filters),
    queryFn: () => api.overview(projectId, rangeQuery(range, tz), event ?? undefined, filters),
    placeholderData: keepPreviousData,
  });
}

export function useTimeseries(
  projectId: string,
  range: DateRange,
  tz: string,
  interval: Interval,
  event: string | null = null,
  filters: string[] = [],
) {
  const { api } = useServices();
  return useQuery({
    queryKey: queryKeys.timeseries(projectId, range, tz, interval, event, filters),
    queryFn: () => api.timeseries(projectId, rangeQuery(range, tz), interval, event ?? undefined, filters),
    placeholderData: keepPreviousData,
  });
}

export function useTopEvents(projectId: string, range: DateRange, tz: string, filters: string[] = []) {
  const { api } = useServices();
  return useQuery({
    queryKey: queryKeys.topEvents(projectId, range, tz, filters),
    queryFn: () => api.topEvents(projectId, rangeQuery(range, tz), 10, filters),
    placeholderData: keepPreviousData,
  });
}

export function useBreakdown(projectId: string, spec: BreakdownSpec, range: DateRange, tz: string, filters: string[] = []) {
  const { api } = useServices();
  return useQuery({
    queryKey: queryKeys.breakdown(projectId, spec, range, tz, filters),
    queryFn: () => api.breakdown(projectId, spec, rangeQuery(range, tz), 10, filters),
    placeholderData: keepPreviousData,
  });
}

export function useSessions(projectId: string, range: DateRange, tz: string, cursor: string | null, filters: string[] = []) {
  const { api } = useServices();
  return useQuery({
    queryKey: queryKeys.sessions(projectId, range, tz, cursor, filters),
    queryFn: () => api.sessions(projectId, rangeQuery(range, tz), { limit: 10, cursor }, filters),
    placeholderData: keepPreviousData,
  });
}

export function useUsers(projectId: string, range: DateRange, tz: string, cursor: string | null, filters: string[] = []) {
  const { api } = useServices();
  return useQuery({
    queryKey: queryKeys.users(projectId, range, tz, cursor, filters),
    queryFn: () => api.users(projectId, rangeQuery(range, tz), { limit: 10, cursor }, filters),
    placeholderData: keepPreviousData,
  });
}

export function useUser(projectId: string, distinctId: string, range: DateRange, tz: string, cursor: string | null) {
  const { api } = useServices();
  return useQuery({
    queryKey: queryKeys.user(projectId, distinctId, range, tz, cursor),
    queryFn: () => api.user(projectId, distinctId, rangeQuery(range, tz), { limit: 25, cursor }),
    enabled: !!distinctId,
    placeholderData: keepPreviousData,
  });
}

export function useEvents(projectId: string, range: DateRange, tz: string, filters: EventFilters, cursor: string | null, filter: string[] = []) {
  const { api } = useServices();
  return useQuery({
    queryKey: queryKeys.events(projectId, range, tz, filters, cursor, filter),
    queryFn: () => api.events(projectId, rangeQuery(range, tz), filters, { limit: 20, cursor }, filter),
    placeholderData: keepPreviousData,
  });
}

export function useCreateProject() {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ProjectCreate) => api.createProject(body),
    onSuccess: (project) => {
      client.setQueryData(queryKeys.project(project.id), project);
      void client.invalidateQueries({ queryKey: queryKeys.projects() });
    },
  });
}

function useProjectMutation<T>(run: (projectId: string, input: T) => Promise<Project>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ projectId, input }: { projectId: string; input: T }) => run(projectId, input),
    onSuccess: (project) => {
      client.setQueryData(queryKeys.project(project.id), project);
      void client.invalidateQueries({ queryKey: queryKeys.projects() });
    },
  });
}

export function useUpdateProject() {
  const { api } = useServices();
  return useProjectMutation((projectId, input: ProjectUpdate) => api.updateProject(projectId, input));
}

export function useRotateKey() {
  const { api } = useServices();
  return useProjectMutation((projectId) => api.rotateKey(projectId));
}

export function useDeleteProject() {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (projectId: string) => api.deleteProject(projectId),
    onSuccess: (_void, projectId) => {
      client.removeQueries({ queryKey: queryKeys.project(projectId) });
      void client.invalidateQueries({ queryKey: queryKeys.projects() });
    },
  });
}

/** Visitors now. On a project page the live hook keeps it current from the WebSocket
 *  (`visitors_now` messages); `pollMs` polls instead where there is no live feed (a share view). */
export function useVisitorsNow(projectId: string, pollMs: number | false = false) {
  const { api } = useServices();
  return useQuery({
    queryKey: queryKeys.visitorsNow(projectId),
    queryFn: () => api.visitorsNow(projectId),
    enabled: !!projectId,
    refetchInterval: pollMs,
  });
}

export function useShareLinks(projectId: string) {
  const { api } = useServices();
  return useQuery({ queryKey: queryKeys.shareLinks(projectId), queryFn: () => api.listShareLinks(projectId), enabled: !!projectId });
}

export function useCreateShareLink(projectId: string) {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ShareLinkCreate) => api.createShareLink(projectId, body),
    onSuccess: () => void client.invalidateQueries({ queryKey: queryKeys.shareLinks(projectId) }),
  });
}

export function useRevokeShareLink(projectId: string) {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (linkId: string) => api.revokeShareLink(projectId, linkId),
    onSuccess: () => void client.invalidateQueries({ queryKey: queryKeys.shareLinks(projectId) }),
  });
}

/** Download a report, or every raw event of the range, as CSV. */
/** A report as CSV with the dashboard's filters (the raw events of the range are unfiltered). */
export function useCsvExport(projectId: string, range: DateRange, tz: string, filters: string[] = []) {
  const { api } = useServices();
  return useMutation({
    mutationFn: (report: CsvReport | "raw-events") =>
      report === "raw-events"
        ? api.exportRawEvents(projectId, rangeQuery(range, tz)).then(() => undefined)
        : api.exportReport(projectId, report, rangeQuery(range, tz), filters).then(() => undefined),
  });
}
