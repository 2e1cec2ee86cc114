export { AtrClient } from "./AtrClient.js";
export { ExponentialBackoff } from "./ExponentialBackoff.js";
export type { ExponentialBackoffOptions } from "./ExponentialBackoff.js";
export { AtrCloseCodes } from "./closeCodes.js";
export { AtrConnectionError } from "./errors.js";
export type {
  AtrClientOptions,
  AtrEvent,
  AtrResyncEvent,
  ConnectionState,
  FetchLike,
  FetchResponseLike,
  Logger,
  RetryContext,
  RetryPolicy,
  Scope,
  Transport,
  WebSocketConstructor,
  WebSocketLike,
} from "./types.js";
