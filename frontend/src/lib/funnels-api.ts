// The funnels and retention endpoints, on the same authorized openapi-fetch client as api.ts
// (types from docs/openapi.json). Kept apart from api.ts so that the two screens stay in
// files of their own.

import createClient from "openapi-fetch";

import { authorizedFetch, clean, unwrap } from "./api";
import type { components, paths } from "./api-schema";
import type { AuthSession } from "./auth";
import type { RangeQuery } from "./range";

export type Funnel = components["schemas"]["FunnelOut"];
export type FunnelStep = components["schemas"]["FunnelStep"];
export type FunnelCreate = components["schemas"]["FunnelCreateIn"];
export type FunnelUpdate = components["schemas"]["FunnelUpdateIn"];
export type FunnelResult = components["schemas"]["FunnelResultOut"];
export type FunnelStepResult = components["schemas"]["FunnelStepResult"];
export type Retention = components["schemas"]["RetentionOut"];
export type RetentionPeriod = Retention["period"];

export function createFunnelsApi(apiUrl: string, session: AuthSession, fetchImpl?: typeof fetch) {
  const client = createClient<paths>({ baseUrl: apiUrl.replace(/\/$/, ""), fetch: authorizedFetch(session, fetchImpl) });
  const inProject = (projectId: string) => ({ path: { project_id: projectId } });
  const one = (projectId: string, funnelId: string) => ({ path: { project_id: projectId, funnel_id: funnelId } });
  return {
    listFunnels: (projectId: string) =>
      unwrap<components["schemas"]["FunnelListOut"]>(client.GET("/api/v1/projects/{project_id}/funnels", { params: inProject(projectId) })),
    createFunnel: (projectId: string, body: FunnelCreate) =>
      unwrap<Funnel>(client.POST("/api/v1/projects/{project_id}/funnels", { params: inProject(projectId), body })),
    updateFunnel: (projectId: string, funnelId: string, body: FunnelUpdate) =>
      unwrap<Funnel>(client.PATCH("/api/v1/projects/{project_id}/funnels/{funnel_id}", { params: one(projectId, funnelId), body })),
    deleteFunnel: (projectId: string, funnelId: string) =>
      unwrap<void>(client.DELETE("/api/v1/projects/{project_id}/funnels/{funnel_id}", { params: one(projectId, funnelId) })),
    funnelResult: (projectId: string, funnelId: string, q: RangeQuery) =>
      unwrap<FunnelResult>(
        client.GET("/api/v1/analytics/{project_id}/funnels/{funnel_id}", { params: { ...one(projectId, funnelId), query: clean({ ...q }) } }),
      ),
    retention: (projectId: string, q: RangeQuery, period: RetentionPeriod, returnEvent?: string) =>
      unwrap<Retention>(
        client.GET("/api/v1/analytics/{project_id}/retention", {
          params: { ...inProject(projectId), query: clean({ ...q, period, return_event: returnEvent }) },
        }),
      ),
  };
}

export type FunnelsApi = ReturnType<typeof createFunnelsApi>;
