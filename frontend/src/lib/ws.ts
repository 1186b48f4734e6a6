// One live connection to the WebSocket API (docs/realtime.md): connect with the access token in
// the query string, ask for `backfill` on every (re)connect, `ping` every few minutes (the API
// closes a connection idle for 10), and reconnect with capped exponential backoff and jitter.
// A handshake that fails before opening may be a refused (expired) token: the next attempt
// asks for a fresh one. Framework-free, so the hook stays thin and the tests drive it directly.

export type LiveStatus = "connecting" | "live" | "reconnecting" | "closed";

export interface LiveEvent {
  uuid: string;
  event: string;
  properties: Record<string, unknown>;
  distinct_id: string | null;
  session_id: string | null;
  page_url: string | null;
  timestamp: string;
  truncated?: boolean;
}

export type ServerMessage =
  | { type: "events"; project_id: string; events: LiveEvent[]; backfill?: boolean }
  | { type: "counters"; project_id: string; hour: string; events: number; sessions: number; by_event: Record<string, number> }
  | { type: "visitors_now"; project_id: string; visitors: number; window_s: number; at: string; next_change_at: string | null }
  | { type: "pong" | "subscribed" | "unsubscribed"; id?: string }
  | { type: "error"; code: string; message: string };

export interface LiveSocketOptions {
  url: string;
  projectId: string;
  /** An access token; `fresh` asks for a newly refreshed one. */
  getToken: (fresh: boolean) => Promise<string>;
  /** The query parameter the token goes in: an account's access token (`token`, the default) or
   *  a share link's session (`share_token`: visitors now of the link's project only). */
  tokenParam?: "token" | "share_token";
  onMessage: (message: ServerMessage) => void;
  onStatus: (status: LiveStatus) => void;
  WebSocketImpl?: typeof WebSocket;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  baseDelayMs?: number;
  maxDelayMs?: number;
  pingEveryMs?: number;
  backfillLimit?: number;
}

/** What gives a live connection its token: a login session or a share link's session. */
export interface TokenSource {
  accessToken: () => Promise<string>;
  refresh: () => Promise<string>;
}

/** `getToken` of a token source: a fresh token when asked for one, else the current one. */
export function tokensOf(source: TokenSource): (fresh: boolean) => Promise<string> {
  return (fresh) => (fresh ? source.refresh() : source.accessToken());
}

/** Delay before reconnect attempt `attempt` (0-based): half the capped exponential, plus jitter up to the other half. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(cap / 2 + random() * (cap / 2));
}

export class LiveSocket {
  private readonly o: Required<Omit<LiveSocketOptions, "WebSocketImpl">> & { WebSocketImpl: typeof WebSocket };
  private socket: WebSocket | null = null;
  private attempt = 0;
  private failedBeforeOpen = 0;
  private reconnectTimer: unknown = null;
  private pingTimer: unknown = null;
  private stopped = false;
  status: LiveStatus = "connecting";

  constructor(options: LiveSocketOptions) {
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.o = {
      WebSocketImpl: globalThis.WebSocket,
      random: Math.random,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      baseDelayMs: 1_000,
      maxDelayMs: 30_000,
      pingEveryMs: 4 * 60_000,
      backfillLimit: 50,
      tokenParam: "token",
      ...given,
    } as LiveSocket["o"];
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.o.onStatus(status);
  }

  start(): void {
    this.stopped = false;
    this.setStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer !== null) this.o.clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopPing();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      socket.close(1000, "page left");
    }
    this.setStatus("closed");
  }

  send(message: Record<string, unknown>): boolean {
    if (!this.socket || this.socket.readyState !== 1) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private async connect(): Promise<void> {
    let token: string;
    try {
      // after a handshake refused right away, ask once for a fresh token (it may have expired)
      token = await this.o.getToken(this.failedBeforeOpen === 1);
    } catch {
      if (!this.stopped) this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    const separator = this.o.url.includes("?") ? "&" : "?";
    const url = `${this.o.url}${separator}project_id=${encodeURIComponent(this.o.projectId)}&${this.o.tokenParam}=${encodeURIComponent(token)}`;
    let socket: WebSocket;
    try {
      socket = new this.o.WebSocketImpl(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.failedBeforeOpen = 0;
      this.setStatus("live");
      this.send({ action: "backfill", project_id: this.o.projectId, limit: this.o.backfillLimit });
      this.startPing();
    };
    socket.onmessage = (event: MessageEvent) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message && typeof message === "object" && "type" in message) this.o.onMessage(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopPing();
      if (!opened) this.failedBeforeOpen += 1;
      if (!this.stopped) this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    this.setStatus("reconnecting");
    const delay = backoffDelay(this.attempt, this.o.baseDelayMs, this.o.maxDelayMs, this.o.random);
    this.attempt += 1;
    this.reconnectTimer = this.o.setTimer(() => {
      this.reconnectTimer = null;
      if (!this.stopped) void this.connect();
    }, delay);
  }

  private startPing(): void {
    this.stopPing();
    const tick = () => {
      this.send({ action: "ping" });
      this.pingTimer = this.o.setTimer(tick, this.o.pingEveryMs);
    };
    this.pingTimer = this.o.setTimer(tick, this.o.pingEveryMs);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) this.o.clearTimer(this.pingTimer);
    this.pingTimer = null;
  }
}
