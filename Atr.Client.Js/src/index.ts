export { AtrClient } from "./AtrClient";
export { ExponentialBackoff } from "./ExponentialBackoff";
export type { ExponentialBackoffOptions } from "./ExponentialBackoff";
export { AtrCloseCodes } from "./closeCodes";
export { AtrConnectionError } from "./errors";
export type {
  AtrClientOptions,
  AtrEvent,
  AtrResyncEvent,
  ConnectionState,
  Logger,
  RetryContext,
  RetryPolicy,
  Scope,
  Transport,
  WebSocketConstructor,
  WebSocketLike,
} from "./types";
