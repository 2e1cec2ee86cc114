import type { RetryDecision } from "./closeCodes.js";

/** Why a connection failed or ended, and whether the client retries. */
export class AtrConnectionError extends Error {
  /** The WebSocket close code (1000 and up) or the HTTP status of a refused handshake, when known. */
  readonly code: number | undefined;
  /**
   * True when the hub refused the connection for good and the client has stopped: 400 (a malformed
   * scope), 403 (the scope not granted, the Origin not allowed), or 401 when no fresh token helped.
   * `code` is then the status and the message the hub's reason. The client makes no further attempt
   * until `start()` is called again.
   */
  readonly refused: boolean;
  /** @internal */
  readonly decision: RetryDecision;

  /** @internal */
  constructor(message: string, decision: RetryDecision, code?: number) {
    super(message);
    this.name = "AtrConnectionError";
    this.decision = decision;
    this.code = code;
    // HTTP statuses are below 600, close codes 1000 and up.
    this.refused = decision === "stop" && code !== undefined && code >= 400 && code < 500;
  }
}
