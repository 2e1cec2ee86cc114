/**
 * One event, exactly as the hub sends it (the same object over both transports). The hub's
 * control event `atr.resync` reaches the same handlers with other fields: see {@link AtrResyncEvent}.
 */
export interface AtrEvent<TRecord = unknown> {
  /** 32 lowercase hexadecimal digits. */
  id: string;
  /** The unscoped event name: `post.created`. */
  name: string;
  /** ISO 8601 with milliseconds and offset (the original's spelling). */
  occured_at: string;
  record: TRecord;
  record_type: string | null;
  /** `organization.1234.post.created`. */
  routing_key: string;
  [key: string]: unknown;
}

/**
 * Sent by the hub when events of the scope may be missing and its history cannot give them: refetch
 * what you show. A reconnect that recovered every missed event from history sends none. It has no
 * `id`, `record`, `record_type` or `routing_key`, and leaves the client's `lastEventId` as it is.
 */
export interface AtrResyncEvent {
  name: "atr.resync";
  occured_at: string;
  /**
   * Why: `history_unavailable` (the client reconnected with the id of its last event, and the
   * history no longer holds it: trimmed, expired, or never recorded) or `backplane_interrupted`
   * (the hub lost Redis, and its history could not fill the gap).
   */
  reason: string;
  /** The scope key it concerns (`organization.1234`). */
  scope: string;
}

/** A scope: `"organization.1234"`, `{ organization: 1234 }` (pairs in insertion order), or `""` / `{}` for the unscoped stream. */
export type Scope = string | Record<string, string | number>;

/** `connecting` (first attempt), `connected`, `reconnecting` (after a drop, waiting or retrying), `disconnected` (stopped or refused for good). */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "disconnected";

export type Transport = "websocket" | "signalr";

/** Where log lines go; every method is optional. */
export interface Logger {
  debug?(message: string): void;
  info?(message: string): void;
  warn?(message: string): void;
  error?(message: string): void;
}

/** Why the client is about to retry, for a {@link RetryPolicy}. */
export interface RetryContext {
  /** Attempts that failed since the last successful connection. */
  previousRetryCount: number;
  /** Milliseconds since the connection was lost (or since start). */
  elapsedMilliseconds: number;
  /** What ended the previous attempt. */
  retryReason: Error;
}

/** Decides how long to wait before the next attempt; `null` stops retrying. */
export interface RetryPolicy {
  nextRetryDelayInMilliseconds(context: RetryContext): number | null;
}

/** The subset of the WebSocket constructor the client needs: the browser's, or Node's `ws` package. */
export interface WebSocketConstructor {
  new (url: string): WebSocketLike;
}

/** The subset of a WebSocket the client uses: what a {@link WebSocketConstructor} returns. */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  close(code?: number, reason?: string): void;
}

/**
 * The subset of `fetch` the client needs: the platform's, or any compatible one. It asks the hub
 * why a handshake failed (a plain `GET` of the same URL) and reads `GET /channels`.
 */
export type FetchLike = (url: string, init?: { cache?: "no-store" }) => Promise<FetchResponseLike>;

/** The subset of a `fetch` response the client reads. */
export interface FetchResponseLike {
  readonly status: number;
  readonly ok: boolean;
  text(): Promise<string>;
}

export interface AtrClientOptions {
  /** The scope to listen to. */
  scope: Scope;
  /**
   * A token, or a function called before every (re)connect that returns a fresh one. When the hub
   * refuses a token (401) or closes at its expiry (4002), a function gets one immediate retry with
   * the token it returns next; a string cannot be refreshed, and the client stops.
   */
  token?: string | (() => string | Promise<string>);
  /** `websocket` (default: the raw protocol, no dependency) or `signalr` (needs `@microsoft/signalr`). */
  transport?: Transport;
  /** The WebSocket constructor: default `globalThis.WebSocket`; on Node before 22 pass the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /**
   * The `fetch` to ask the hub with: default `globalThis.fetch`. A browser never sees why a WebSocket
   * handshake failed, so the client then asks the hub with a plain `GET` of the same URL, which
   * answers the status the handshake got. Without a fetch, or when the question fails (the hub is
   * down, CORS forbids reading the answer), the client backs off and retries.
   */
  fetch?: FetchLike;
  /** The `@microsoft/signalr` module, when it is neither importable nor the global `signalR`. */
  signalR?: unknown;
  /**
   * The id of the last event the application has of this scope, from an earlier run (a page
   * stored the client's `lastEventId`): the first connect asks the hub for the events after it,
   * as every reconnect does with the last event received. Without it the first connect starts with
   * live events. 32 lowercase hexadecimal digits; anything else throws.
   */
  since?: string;
  /** How long to wait between reconnects. Default {@link ExponentialBackoff} (0.5 s doubling to 30 s, full jitter, forever). */
  retryPolicy?: RetryPolicy;
  logger?: Logger;
}
