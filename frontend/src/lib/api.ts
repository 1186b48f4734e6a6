// The HTTP API client: openapi-fetch over the types generated from docs/openapi.json
// (`make frontend-api`), with the session's access token on every request and one retry after
// a refresh when a token was refused (401).

import createClient from "openapi-fetch";

import type {
  Breakdown,
  Events,
  Interval,
  Overview,
  Sessions,
  Timeseries,
  TopEvents,
  UserDetail,
  Users,
} from "./analytics-types";
import type { components, paths } from "./api-schema";
import type { AuthSession } from "./auth";
import { saveBlob } from "./download";
import { ApiError } from "./errors";
import type { BreakdownSpec } from "./filters";
import type { RangeQuery } from "./range";

export type Project = components["schemas"]["ProjectOut"];
export type ShareLink = components["schemas"]["ShareLinkOut"];
export type ShareLinkCreated = components["schemas"]["ShareLinkCreatedOut"];
export type ShareLinkCreate = components["schemas"]["ShareLinkCreateIn"];
export type VisitorsNow = components["schemas"]["VisitorsNowOut"];

/** Reports the API exports as CSV (GET …/export/{report}). */
export type CsvReport = "overview" | "timeseries" | "top-events" | "pages" | "referrers" | "utm-sources" | "sessions" | "users" | "events" | "visitors-now";

/** What hands out bearer tokens: an account's login session, or a share link's session. */
export type TokenSource = Pick<AuthSession, "accessToken" | "refresh">;
export type ProjectCreate = components["schemas"]["ProjectCreateIn"];
export type ProjectUpdate = components["schemas"]["ProjectUpdateIn"];

export interface Page {
  limit?: number;
  cursor?: string | null;
}
export interface EventFilters {
  event?: string;
  distinct_id?: string;
  session_id?: string;
}

/** A fetch that adds the bearer token and, on a 401, refreshes once and retries. */
export function authorizedFetch(session: TokenSource, fetchImpl: typeof fetch = (...a) => fetch(...a)) {
  return async (input: Request): Promise<Response> => {
    const retry = input.clone();
    const send = async (request: Request, token: string) => {
      const headers = new Headers(request.headers);
      headers.set("authorization", `Bearer ${token}`);
      return fetchImpl(new Request(request, { headers }));
    };
    const first = await send(input, await session.accessToken());
    if (first.status !== 401) return first;
    let token: string;
    try {
      token = await session.refresh();
    } catch {
      return first; // the session is over; the caller sees the 401
    }
    return send(retry, token);
  };
}

type Result<T> = { data?: T; error?: unknown; response: Response };

export async function unwrap<T>(promise: Promise<Result<unknown>>): Promise<T> {
  let result: Result<unknown>;
  try {
    result = await promise;
  } catch (error) {
    throw new ApiError(0, "network", error instanceof Error ? `Network error: ${error.message}` : "Network error");
  }
  if (result.error !== undefined || !result.response.ok) throw ApiError.fromBody(result.response.status, result.error);
  return result.data as T;
}

export function clean<T extends object>(query: T): T {
  const present = (v: unknown) => v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0);
  return Object.fromEntries(Object.entries(query).filter(([, v]) => present(v))) as T;
}

/** Reports the API answers in pages (a next cursor), and the rows an export asks for a page. */
const PAGED_REPORTS: ReadonlySet<CsvReport> = new Set<CsvReport>(["sessions", "users", "events"]);
const EXPORT_PAGE_ROWS = 1000;

type CsvPage = { data?: ArrayBuffer; error?: unknown; response: Response };

/** Fetch a CSV's pages, each asked with the `x-next-cursor` of the one before, until an answer
 *  has none; save them joined as one file (named by the first answer). Returns the pages. */
async function saveCsvPages(
  fallbackName: string,
  fetchPage: (cursor: string | null) => Promise<CsvPage>,
  onPage?: (pages: number) => void,
): Promise<number> {
  const parts: Blob[] = [];
  let cursor: string | null = null;
  let name = fallbackName;
  do {
    const result: CsvPage = await fetchPage(cursor);
    // each page its own Blob at once (a browser may keep it on disk), joined at the end
    parts.push(new Blob([await unwrap<ArrayBuffer>(Promise.resolve(result))], { type: "text/csv" }));
    if (parts.length === 1) name = fileName(result.response, name);
    cursor = result.response.headers.get("x-next-cursor");
    onPage?.(parts.length);
  } while (cursor);
  saveBlob(new Blob(parts, { type: "text/csv" }), name);
  return parts.length;
}

/** The file name a response's Content-Disposition gives, else `fallback`. */
function fileName(response: Response, fallback: string): string {
  const match = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "");
  return match?.[1] ?? fallback;
}

export function createApi(apiUrl: string, session: TokenSource, fetchImpl?: typeof fetch) {
  const client = createClient<paths>({ baseUrl: apiUrl.replace(/\/$/, ""), fetch: authorizedFetch(session, fetchImpl) });
  const path = (projectId: string) => ({ project_id: projectId });

  return {
    me: () => unwrap<components["schemas"]["UserOut"]>(client.GET("/api/v1/auth/me")),
    listProjects: () => unwrap<components["schemas"]["ProjectListOut"]>(client.GET("/api/v1/projects")),
    createProject: (body: ProjectCreate) => unwrap<Project>(client.POST("/api/v1/projects", { body })),
    getProject: (projectId: string) =>
      unwrap<Project>(client.GET("/api/v1/projects/{project_id}", { params: { path: path(projectId) } })),
    updateProject: (projectId: string, body: ProjectUpdate) =>
      unwrap<Project>(client.PATCH("/api/v1/projects/{project_id}", { params: { path: path(projectId) }, body })),
    deleteProject: (projectId: string) =>
      unwrap<void>(client.DELETE("/api/v1/projects/{project_id}", { params: { path: path(projectId) } })),
    rotateKey: (projectId: string) =>
      unwrap<Project>(client.POST("/api/v1/projects/{project_id}/rotate-key", { params: { path: path(projectId) } })),

    overview: (projectId: string, q: RangeQuery, event?: string, filter: string[] = []) =>
      unwrap<Overview>(
        client.GET("/api/v1/analytics/{project_id}/overview", {
          params: { path: path(projectId), query: clean({ ...q, event, filter }) },
        }),
      ),
    timeseries: (projectId: string, q: RangeQuery, interval: Interval, event?: string, filter: string[] = []) =>
      unwrap<Timeseries>(
        client.GET("/api/v1/analytics/{project_id}/timeseries", {
          params: { path: path(projectId), query: clean({ ...q, interval, event, filter }) },
        }),
      ),
    topEvents: (projectId: string, q: RangeQuery, limit = 10, filter: string[] = []) =>
      unwrap<TopEvents>(
        client.GET("/api/v1/analytics/{project_id}/top-events", {
          params: { path: path(projectId), query: clean({ ...q, limit, filter }) },
        }),
      ),
    breakdown: (projectId: string, spec: BreakdownSpec, q: RangeQuery, limit = 10, filter: string[] = []) =>
      unwrap<Breakdown>(
        client.GET("/api/v1/analytics/{project_id}/breakdown", {
          params: { path: path(projectId), query: clean({ ...q, ...spec, limit, filter }) },
        }),
      ),
    sessions: (projectId: string, q: RangeQuery, page: Page, filter: string[] = []) =>
      unwrap<Sessions>(
        client.GET("/api/v1/analytics/{project_id}/sessions", {
          params: { path: path(projectId), query: clean({ ...q, ...page, filter }) },
        }),
      ),
    users: (projectId: string, q: RangeQuery, page: Page, filter: string[] = []) =>
      unwrap<Users>(
        client.GET("/api/v1/analytics/{project_id}/users", {
          params: { path: path(projectId), query: clean({ ...q, ...page, filter }) },
        }),
      ),
    user: (projectId: string, distinctId: string, q: RangeQuery, page: Page) =>
      unwrap<UserDetail>(
        client.GET("/api/v1/analytics/{project_id}/users/{distinct_id}", {
          params: { path: { project_id: projectId, distinct_id: distinctId }, query: clean({ ...q, ...page }) },
        }),
      ),
    visitorsNow: (projectId: string) =>
      unwrap<VisitorsNow>(client.GET("/api/v1/analytics/{project_id}/visitors-now", { params: { path: path(projectId) } })),

    listShareLinks: (projectId: string) =>
      unwrap<components["schemas"]["ShareLinkListOut"]>(
        client.GET("/api/v1/projects/{project_id}/share-links", { params: { path: path(projectId) } }),
      ),
    createShareLink: (projectId: string, body: ShareLinkCreate) =>
      unwrap<ShareLinkCreated>(client.POST("/api/v1/projects/{project_id}/share-links", { params: { path: path(projectId) }, body })),
    revokeShareLink: (projectId: string, linkId: string) =>
      unwrap<void>(
        client.DELETE("/api/v1/projects/{project_id}/share-links/{link_id}", {
          params: { path: { project_id: projectId, link_id: linkId } },
        }),
      ),

    /** One report as a CSV file, saved by the browser. A paged report (sessions, users,
     *  events) is fetched 1,000 rows a page, each asked with the `x-next-cursor` of the one
     *  before, and its pages (only the first has the header row) joined into one file. */
    exportReport: async (projectId: string, report: CsvReport, q: RangeQuery, filter: string[] = []): Promise<number> => {
      const limit = PAGED_REPORTS.has(report) ? EXPORT_PAGE_ROWS : undefined;
      return saveCsvPages(`pulse-${report}.csv`, (cursor) =>
        client.GET("/api/v1/analytics/{project_id}/export/{report}", {
          params: { path: { project_id: projectId, report }, query: clean({ ...q, filter, limit, cursor }) },
          parseAs: "arrayBuffer",
        }),
      );
    },
    /** Every raw event of the range as one CSV file: the API's pages (each under its 6 MB
     *  response limit) fetched one after the other and joined into one Blob. */
    exportRawEvents: async (projectId: string, q: RangeQuery, onPage?: (pages: number) => void): Promise<number> =>
      saveCsvPages(
        "pulse-events.csv",
        (cursor) =>
          client.GET("/api/v1/analytics/{project_id}/events.csv", {
            params: { path: path(projectId), query: clean({ ...q, cursor }) },
            parseAs: "arrayBuffer",
          }),
        onPage,
      ),

    events: (projectId: string, q: RangeQuery, filters: EventFilters, page: Page, filter: string[] = []) =>
      unwrap<Events>(
        client.GET("/api/v1/analytics/{project_id}/events", {
          params: { path: path(projectId), query: clean({ ...q, ...filters, ...page, filter }) },
        }),
      ),
  };
}

export type Api = ReturnType<typeof createApi>;
