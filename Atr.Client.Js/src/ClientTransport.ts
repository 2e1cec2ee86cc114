import type { AtrEvent } from "./types.js";
import type { AtrConnectionError } from "./errors.js";

/** @internal One connection attempt's channel to the hub, raw WebSocket or SignalR. */
export interface ClientTransport {
  /**
   * Opens the connection; rejects with an AtrConnectionError when it cannot. With `since` (the id of
   * the last event the client has), the hub first sends the events of its history after it, or
   * `atr.resync` when its history does not hold it.
   */
  connect(token: string | undefined, since: string | undefined): Promise<void>;
  /** Closes it; no onClose follows. */
  close(): Promise<void>;
  onEvent: (event: AtrEvent) => void;
  /** Called once when an open connection ends by itself. */
  onClose: (reason: AtrConnectionError) => void;
}
