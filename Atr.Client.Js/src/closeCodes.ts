/** The hub's WebSocket close codes beyond RFC 6455's, and what the client does on each. */
export const AtrCloseCodes = {
  /** The client read too slowly; it reconnects after a backoff (it missed events). */
  SlowConsumer: 4001,
  /** The token expired; the client asks for a fresh one and reconnects at once. */
  TokenExpired: 4002,
} as const;

/** @internal What to do after a connection ends or fails. */
export type RetryDecision = "stop" | "backoff" | "refresh";

/** @internal The decision for a WebSocket close code. */
export function decideOnClose(code: number): RetryDecision {
  switch (code) {
    case 1000: // unsubscribed or ended on purpose
    case 1003: // the client sent binary
    case 1008: // policy
    case 1009: // the client sent too much
      return "stop";
    case AtrCloseCodes.TokenExpired:
      return "refresh";
    default: // 1001 shutdown, 1006 network, 1011, 4001 slow consumer
      return "backoff";
  }
}

/** @internal The decision for a refused handshake's HTTP status, when the platform reveals it. */
export function decideOnStatus(status: number | undefined): RetryDecision {
  if (status === 400 || status === 403) return "stop";
  if (status === 401) return "refresh";
  return "backoff";
}

/**
 * @internal The HTTP status in a failure's text, in the forms that carry one: ws's
 * `Unexpected server response: 403`, SignalR's `Status code '403'`, and the hub's refusals,
 * which begin with theirs (`403: …`, after `HubException: ` once SignalR relays them). Other
 * numbers, such as the port in `connect ECONNREFUSED 127.0.0.1:7777`, are not statuses.
 */
export function statusOf(message: string): number | undefined {
  const match = /Unexpected server response: ([1-5]\d\d)\b|Status code '([1-5]\d\d)'|(?:^|HubException: )([1-5]\d\d): /.exec(message);
  const status = match?.[1] ?? match?.[2] ?? match?.[3];
  return status === undefined ? undefined : Number(status);
}
