import type { AtrEvent, Logger, WebSocketConstructor, WebSocketLike } from "./types.js";
import type { ClientTransport } from "./ClientTransport.js";
import { decideOnClose, decideOnStatus, refusalIn } from "./closeCodes.js";
import { AtrConnectionError } from "./errors.js";

/** @internal The raw protocol: one JSON text frame per event. */
export class WebSocketTransport implements ClientTransport {
  onEvent: (event: AtrEvent) => void = () => {};
  onClose: (reason: AtrConnectionError) => void = () => {};
  private socket: WebSocketLike | undefined;

  constructor(
    private readonly url: string,
    private readonly WebSocketCtor: WebSocketConstructor,
    private readonly logger: Logger,
  ) {}

  connect(token: string | undefined): Promise<void> {
    const url = token ? `${this.url}?access_token=${encodeURIComponent(token)}` : this.url;
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
        if (typeof message.data !== "string") return;
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
          // Also when close() ended a connect under way: the attempt must settle.
          if (this.socket === socket) this.socket = undefined;
          const code = refusalIn(failure)?.status;
          reject(new AtrConnectionError(`The hub refused the connection${code ? ` (HTTP ${code})` : ""}.`, decideOnStatus(code), code));
          return;
        }
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.onClose(new AtrConnectionError(`The connection closed with ${close.code}${close.reason ? `: ${close.reason}` : ""}.`, decideOnClose(close.code), close.code));
      };
    });
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    try {
      socket.close(1000);
    } catch {
      // Already closing.
    }
  }
}
