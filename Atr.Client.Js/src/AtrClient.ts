import type { AtrClientOptions, AtrEvent, ConnectionState, FetchLike, Logger, RetryPolicy, WebSocketConstructor } from "./types.js";
import type { ClientTransport } from "./ClientTransport.js";
import { AtrConnectionError } from "./errors.js";
import { ExponentialBackoff } from "./ExponentialBackoff.js";
import { SignalRTransport } from "./SignalRTransport.js";
import { WebSocketTransport } from "./WebSocketTransport.js";
import { isEventId, scopeKey, scopePath } from "./scope.js";

type EventHandler = (event: AtrEvent) => void;
type StateHandler = (state: ConnectionState, error?: AtrConnectionError) => void;

/**
 * Listens to one scope of an Atr hub and dispatches its events by name.
 *
 * ```js
 * const client = new AtrClient("http://127.0.0.1:7777", { scope: { organization: 1234 } });
 * client.on("post.created", (event) => console.log(event.record));
 * await client.start();
 * ```
 *
 * The client reconnects by itself with exponential backoff and full jitter. It stops for good on a
 * refusal that a retry cannot fix (a scope not granted, a malformed scope, a protocol error); on an
 * expired or refused token it asks the token function for a fresh one and reconnects at once, and
 * stops if that one is refused too. Where the platform hides why a handshake failed (browsers), it
 * asks the hub with a plain `GET` of the same URL.
 *
 * It remembers the id of the last event it received ({@link lastEventId}), and every reconnect asks
 * the hub for the events after it: those the hub's history holds arrive first, in order and once.
 * When the history cannot cover the gap, the hub sends `atr.resync` (see {@link AtrResyncEvent}).
 */
export class AtrClient {
  /** The scope key the client listens to (`organization.1234`; empty for unscoped events). */
  readonly scope: string;

  private readonly httpBase: string;
  private readonly transport: ClientTransport;
  private readonly retryPolicy: RetryPolicy;
  private readonly logger: Logger;
  private readonly fetch: FetchLike | undefined;
  private readonly handlers = new Map<string, Set<EventHandler>>();
  private readonly anyHandlers = new Set<EventHandler>();
  private readonly stateHandlers = new Set<StateHandler>();
  private currentState: ConnectionState = "disconnected";
  /** The id of the last event received, or the application's `since` until one arrives. */
  private lastId: string | undefined;
  private started: Promise<void> = Promise.resolve();
  /** The run start() began last; one stopped or given up may still be finishing. */
  private run: Run | undefined;

  constructor(baseUrl: string, private readonly options: AtrClientOptions) {
    this.scope = scopeKey(options.scope);
    if (options.since !== undefined && !isEventId(options.since)) {
      throw new TypeError(`Invalid since ${JSON.stringify(options.since)}: the id of an event, 32 lowercase hexadecimal digits.`);
    }
    this.lastId = options.since;
    this.httpBase = baseUrl.replace(/\/+$/, "").replace(/^ws(s?):/, "http$1:");
    this.logger = options.logger ?? {};
    this.retryPolicy = options.retryPolicy ?? new ExponentialBackoff();
    this.fetch = options.fetch ?? platformFetch();
    if (options.transport === "signalr") {
      this.transport = new SignalRTransport(`${this.httpBase}/hub`, this.scope, options.signalR, this.logger);
    } else {
      const socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!socket) {
        throw new TypeError("No WebSocket here: pass options.WebSocket (on Node before 22, the ws package).");
      }
      this.transport = new WebSocketTransport(this.httpBase.replace(/^http/, "ws") + scopePath(this.scope), socket, this.fetch, this.logger);
    }
    this.transport.onEvent = (event) => this.dispatch(event);
  }

  /** `connecting`, `connected`, `reconnecting` or `disconnected`. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /**
   * The id of the last event received (or `options.since` until one arrives): what the next
   * connect asks the hub to send the events after. Store it to pass as `since` on a later page
   * load. `atr.resync` and events without an id leave it as it is.
   */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** Calls `handler` for every event named `name` (`post.created`, or `atr.resync`). */
  on(name: string, handler: EventHandler): this {
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    set.add(handler);
    return this;
  }

  /** Removes one handler of `name`, or all of them. */
  off(name: string, handler?: EventHandler): this {
    if (handler) this.handlers.get(name)?.delete(handler);
    else this.handlers.delete(name);
    return this;
  }

  /** Calls `handler` for every event, whatever its name. */
  onAny(handler: EventHandler): this {
    this.anyHandlers.add(handler);
    return this;
  }

  offAny(handler: EventHandler): this {
    this.anyHandlers.delete(handler);
    return this;
  }

  /** Calls `handler` on every state change, with the error that caused it when there is one. */
  onState(handler: StateHandler): this {
    this.stateHandlers.add(handler);
    return this;
  }

  offState(handler: StateHandler): this {
    this.stateHandlers.delete(handler);
    return this;
  }

  /**
   * Connects. Resolves once connected, or once {@link stop} ends the client before it connected
   * (then it is `disconnected`); rejects if the hub refuses for good (then too). Failures that may
   * pass are retried meanwhile. While the client runs, a second call returns the first one's promise.
   */
  start(): Promise<void> {
    if (this.run && !this.run.stopped) return this.started;
    let settle!: { resolve: () => void; reject: (error: Error) => void };
    this.started = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    let requestStop!: () => void;
    const stopping = new Promise<undefined>((resolve) => (requestStop = () => resolve(undefined)));
    // A run still finishing (stop() was called and not awaited) owns the transport until it has
    // ended and its stop has closed the connection.
    const previous = this.run ? Promise.all([this.run.done, this.run.closing]) : Promise.resolve();
    const run: Run = { stopped: false, requestStop, done: Promise.resolve() };
    run.done = previous
      .then(() => this.loop(run, settle, stopping))
      .catch((error) => this.logger.error?.(`Atr: ${error}`));
    this.run = run;
    return this.started;
  }

  /** Disconnects and stops reconnecting, at once: also while connecting, fetching a token or waiting to retry. */
  async stop(): Promise<void> {
    const run = this.run;
    if (!run || run.stopped) return;
    run.stopped = true;
    run.requestStop();
    run.closing = this.transport.close();
    await run.closing;
    await run.done;
  }

  /** Every event name publishers have announced (`GET /channels`). */
  async channels(): Promise<string[]> {
    const fetch = this.fetch;
    if (!fetch) throw new TypeError("No fetch here: pass options.fetch.");
    const response = await fetch(`${this.httpBase}/channels`);
    if (!response.ok) throw new Error(`GET /channels answered ${response.status}`);
    return JSON.parse(await response.text()) as string[];
  }

  /** Connects and reconnects until `stopping` resolves (stop() was called) or the client gives up. */
  private async loop(run: Run, settle: { resolve: () => void; reject: (error: Error) => void }, stopping: Promise<undefined>): Promise<void> {
    if (run.stopped) {
      // Stopped while an earlier run was finishing: it never connected.
      settle.resolve();
      return;
    }

    let retries = 0;
    let lostAt = Date.now();
    // The attempt under way follows a refused or expired token, with the token function's next one.
    let refreshed = false;
    const refreshable = typeof this.options.token === "function";
    // "connecting" until the first attempt ends; every retry, after a drop or not, is "reconnecting" from the wait before it.
    this.setState("connecting");
    while (!run.stopped) {
      let ended: AtrConnectionError;
      try {
        const token = await Promise.race([this.token(), stopping]);
        if (run.stopped) break;
        const closed = new Promise<AtrConnectionError>((resolve) => (this.transport.onClose = resolve));
        // stop() closes the transport, which ends an attempt under way; one that had not reached
        // the network yet (SignalR loading its module) may open all the same, and is closed here.
        await this.transport.connect(token, this.lastId);
        if (run.stopped) {
          await this.transport.close();
          break;
        }
        retries = 0;
        refreshed = false;
        this.setState("connected");
        settle.resolve();
        const lost = await Promise.race([closed, stopping]);
        if (lost === undefined || run.stopped) break;
        ended = lost;
        lostAt = Date.now();
      } catch (error) {
        if (run.stopped) break;
        ended = error instanceof AtrConnectionError ? error : new AtrConnectionError(String((error as Error)?.message ?? error), "backoff");
      }

      this.logger.info?.(`Atr: ${ended.message}`);
      // A refusal for good gives up at once. A refused or expired token gets one immediate attempt
      // with the token function's next token; a token refused again, or one no function can
      // replace, gives up too. The retry policy decides the rest, and may give up as well.
      if (ended.decision === "refresh" && (refreshed || !refreshable)) {
        ended = new AtrConnectionError(ended.message, "stop", ended.code);
      }
      const delay = ended.decision === "stop"
        ? null
        : ended.decision === "refresh"
          ? 0
          : this.retryPolicy.nextRetryDelayInMilliseconds({ previousRetryCount: retries, elapsedMilliseconds: Date.now() - lostAt, retryReason: ended });
      refreshed = ended.decision === "refresh";
      if (delay === null) {
        run.stopped = true;
        this.setState("disconnected", ended);
        settle.reject(ended);
        return;
      }
      retries++;
      this.setState("reconnecting", ended);
      await this.pause(delay, stopping);
    }
    this.setState("disconnected");
    settle.resolve();
  }

  private async token(): Promise<string | undefined> {
    const token = this.options.token;
    return typeof token === "function" ? await token() : token;
  }

  private dispatch(event: AtrEvent): void {
    // Control events (atr.…) are no events of the scope's history. An id the hub would refuse as
    // since (a plain PUBLISH from elsewhere may carry anything) would stop the next reconnect.
    if (isEventId(event.id) && !String(event.name).startsWith("atr.")) this.lastId = event.id;
    for (const handler of this.handlers.get(event.name) ?? []) this.safely(handler, event);
    for (const handler of this.anyHandlers) this.safely(handler, event);
  }

  private safely(handler: EventHandler, event: AtrEvent): void {
    try {
      handler(event);
    } catch (error) {
      this.logger.error?.(`Atr: a handler of ${event.name} threw: ${error}`);
    }
  }

  private setState(state: ConnectionState, error?: AtrConnectionError): void {
    if (this.currentState === state) return;
    this.currentState = state;
    for (const handler of this.stateHandlers) {
      try {
        handler(state, error);
      } catch (handlerError) {
        this.logger.error?.(`Atr: a state handler threw: ${handlerError}`);
      }
    }
  }

  /** Waits `ms`, or less if `stopping` resolves first. */
  private async pause(ms: number, stopping: Promise<undefined>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), stopping]);
    clearTimeout(timer);
  }
}

/** The platform's fetch, when there is one, called on the global as it requires. */
function platformFetch(): FetchLike | undefined {
  const platform = globalThis as { fetch?: FetchLike };
  return typeof platform.fetch === "function" ? (url, init) => platform.fetch!(url, init) : undefined;
}

/** One start() to its end: stop() marks it, and its loop checks its own mark, never a later run's. */
interface Run {
  stopped: boolean;
  requestStop: () => void;
  /** Settles once the run's loop has ended. */
  done: Promise<void>;
  /** The transport's close, once stop() has begun it. */
  closing?: Promise<void>;
}
