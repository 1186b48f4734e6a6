// The deployment's URLs. A static export has no server, so one build serves every deployment:
// the host puts /config.json beside the pages (the local runtime writes it; the infrastructure
// deploys it) and the app reads it once at start.

export interface RuntimeConfig {
  /** Where the API's paths (/api/v1/…) are served: "" or "/" for first-party (the site's own /api/*),
   *  or e.g. "https://api.example.com". Stored absolute. */
  apiUrl: string;
  /** The WebSocket API, e.g. "ws://127.0.0.1:8001/live" or "wss://…/live". */
  wsUrl: string;
  /** The tracker's URL, for the snippet. */
  sdkUrl: string;
  /** Where the tracker posts (its data-api), when not to the script's own origin: in AWS the
   *  ingest function's URL, which costs no API Gateway or CloudFront request (docs/cost.md). */
  ingestUrl?: string;
}

let loaded: Promise<RuntimeConfig> | null = null;

function absolute(url: string, base: string): string {
  return new URL(url, base).toString().replace(/\/$/, "");
}

export function parseConfig(raw: unknown, origin: string): RuntimeConfig {
  if (typeof raw !== "object" || raw === null) throw new Error("/config.json is not an object");
  const value = raw as Record<string, unknown>;
  if (typeof value.apiUrl !== "string") throw new Error("/config.json: apiUrl is missing");
  if (typeof value.wsUrl !== "string" || !value.wsUrl) throw new Error("/config.json: wsUrl is missing");
  const apiUrl = absolute(value.apiUrl as string, origin);
  const wsBase = absolute(value.wsUrl as string, origin.replace(/^http/, "ws"));
  const sdkUrl =
    typeof value.sdkUrl === "string" && value.sdkUrl
      ? absolute(value.sdkUrl, origin)
      : absolute("/sdk/tracker.min.js", origin);
  const config: RuntimeConfig = { apiUrl, wsUrl: wsBase, sdkUrl };
  if (typeof value.ingestUrl === "string" && value.ingestUrl) config.ingestUrl = absolute(value.ingestUrl, origin);
  return config;
}

/** Fetch /config.json once (later calls share the promise; a failure is retried next call). */
export function loadConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  if (!loaded) {
    loaded = fetchImpl("/config.json", { cache: "no-store" })
      .then((response) => {
        if (!response.ok) throw new Error(`/config.json answered ${response.status}`);
        return response.json();
      })
      .then((raw) => parseConfig(raw, window.location.origin))
      .catch((error) => {
        loaded = null;
        throw error;
      });
  }
  return loaded;
}

export function resetConfigForTests(): void {
  loaded = null;
}
