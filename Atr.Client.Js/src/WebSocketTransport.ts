import type { AtrEvent, FetchLike, Logger, WebSocketConstructor, WebSocketLike } from "./types.js";
import type { ClientTransport } from "./ClientTransport.js";
import { decideOnClose, decideOnStatus, refusalIn } from "./closeCodes.js";
import { AtrConnectionError } from "./errors.js";

/** How long the hub has to answer why a handshake failed; no answer means the same as a hub that is down. */
const askTimeoutMs = 10_000;

/** @internal The raw protocol: one JSON text frame per event. */
export class WebSocketTransport implements ClientTransport {
  onEvent: (event: AtrEvent) => void = () => {};
  onClose: (reason: AtrConnectionError) => void = () => {};
  private socket: WebSocketLike | undefined;
  /** Ends a question to the hub under way (close() was called). */
  private abandon: (() => void) | undefined;

  constructor(
    private readonly url: string,
    private readonly WebSocketCtor: WebSocketConstructor,
    private readonly fetch: FetchLike | undefined,
    private readonly logger: Logger,
  ) {}

  connect(token: string | undefined, since: string | undefined): Promise<void> {
    const query = [since && `since=${since}`, token && `access_token=${encodeURIComponent(token)}`].filter(Boolean).join("&");
    const url = query ? `${this.url}?${query}` : this.url;
    return new Promise((resolve, reject) => {
      const socket = new this.WebSocketCtor(url);
      this.socket = socket;
      let opened = false;
      let failure = "";
      socket.onopen = () => {
        opened = true;
        resolve();
      };
      socket.onmessage = (message) => {
        // A frame of a socket the client has let go of would arrive out of order with the next one's.
        if (this.socket !== socket || typeof message.data !== "string") return;
        let event: AtrEvent;
        try {
          event = JSON.parse(message.data) as AtrEvent;
        } catch {
          this.logger.warn?.("Atr: a frame that is not JSON was ignored.");
          return;
        }
        this.onEvent(event);
      };
      socket.onerror = (error) => {
        // Browsers say nothing; Node's ws says "Unexpected server response: 403".
        failure = String((error as { message?: string })?.message ?? (error as { error?: Error })?.error?.message ?? "");
      };
      socket.onclose = (close) => {
        if (!opened) {
          // Also when close() ended a connect under way: the attempt must settle, and at once.
          if (this.socket !== socket) {
            reject(new AtrConnectionError("The connection was closed before it opened.", "backoff"));
            return;
          }
          this.socket = undefined;
          const refusal = refusalIn(failure);
          if (refusal) {
            reject(new AtrConnectionError(`The hub refused the connection (HTTP ${refusal.status}).`, decideOnStatus(refusal.status), refusal.status));
          } else {
            this.askWhy(url).then(reject);
          }
          return;
        }
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.onClose(new AtrConnectionError(`The connection closed with ${close.code}${close.reason ? `: ${close.reason}` : ""}.`, decideOnClose(close.code), close.code));
      };
    });
  }

  async close(): Promise<void> {
    this.abandon?.();
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    try {
      socket.close(1000);
    } catch {
      // Already closing.
    }
  }

  /**
   * A handshake failed without a status (a browser never reveals it): a plain GET of the same URL,
   * with the same token, answers the status the handshake got and the hub's reason. A question that
   * fails (the hub is down, CORS forbids reading the answer) or finds the hub admitting it now leaves
   * the cause unknown: back off.
   */
  private async askWhy(url: string): Promise<AtrConnectionError> {
    const fetch = this.fetch;
    if (!fetch) return new AtrConnectionError("The connection failed (no fetch to ask the hub why).", "backoff");
    let abandon!: () => void;
    const abandoned = new Promise<undefined>((resolve) => (abandon = () => resolve(undefined)));
    this.abandon = abandon;
    const timer = setTimeout(abandon, askTimeoutMs);
    try {
      const answer = await Promise.race([
        fetch(url.replace(/^ws/, "http"), { cache: "no-store" }).then(async (response) => ({ status: response.status, text: await response.text() })),
        abandoned,
      ]);
      if (answer === undefined) return new AtrConnectionError("The connection failed, and the hub did not say why in time.", "backoff");
      if (answer.status >= 200 && answer.status < 300) {
        return new AtrConnectionError("The connection failed, though the hub would admit it now.", "backoff");
      }
      const reason = answer.text.trim().split("\n", 1)[0].slice(0, 500);
      return new AtrConnectionError(reason || `The hub refused the connection (HTTP ${answer.status}).`, decideOnStatus(answer.status), answer.status);
    } catch (error) {
      return new AtrConnectionError(`The connection failed, and the hub does not answer (${(error as Error)?.message ?? error}).`, "backoff");
    } finally {
      clearTimeout(timer);
      if (this.abandon === abandon) this.abandon = undefined;
    }
  }
}
