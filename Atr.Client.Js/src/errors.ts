import type { RetryDecision } from "./closeCodes.js";

/** Why a connection failed or ended, and whether the client retries. */
export class AtrConnectionError extends Error {
  /** The WebSocket close code or handshake HTTP status, when known. */
  readonly code: number | undefined;
  /** @internal */
  readonly decision: RetryDecision;

  /** @internal */
  constructor(message: string, decision: RetryDecision, code?: number) {
    super(message);
    this.name = "AtrConnectionError";
    this.decision = decision;
    this.code = code;
  }
}
