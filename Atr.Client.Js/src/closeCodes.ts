/** The hub's WebSocket close codes beyond RFC 6455's, and what the client does on each. */
export const AtrCloseCodes = {
  /** The client read too slowly; it reconnects after a backoff, and asks for the events it missed. */
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

/**
 * The refusal statuses the hub answers (raw handshake, plain GET, SignalR hub error) and
 * what each means to the client. test/contract.test.mjs holds this table to the hub's C# source.
 */
const refusalDecisions: Readonly<Record<number, RetryDecision>> = {
  400: "stop", // a malformed scope, or not a scope of this hub
  401: "refresh", // no token, or one that is invalid or expired
  403: "stop", // the token does not grant the scope, the Origin is not allowed, the app's authenticator refused
  429: "backoff", // too many connections from this address
  503: "backoff", // shutting down, the token keys or the backplane unavailable
};

/** @internal The decision for a refused handshake's HTTP status: anything not in the table (or unknown) backs off. */
export function decideOnStatus(status: number | undefined): RetryDecision {
  return (status !== undefined && refusalDecisions[status]) || "backoff";
}

/** @internal A status read from a failure's text, with the hub's reason when the text carries it. */
export interface Refusal {
  status: number;
  reason?: string;
}

/**
 * @internal The one reader of statuses in failure texts. The hub's SignalR errors begin with their
 * status and reason (`403: Scope … is not allowed …`); SignalR relays them after the exception's
 * type name, `HubRefusal: ` (`HubException: ` from older hubs), or after `Server returned an error
 * on close: ` (the close at a token's expiry). The platforms' own texts carry a bare status: ws's
 * `Unexpected server response: 403`, SignalR's `Status code '403'`. Other numbers, such as the port
 * in `connect ECONNREFUSED 127.0.0.1:7777`, are not statuses.
 */
export function refusalIn(message: string): Refusal | undefined {
  const hub = /(?:^|Hub(?:Exception|Refusal): |error on close: )([1-5]\d\d): (.+)$/m.exec(message);
  if (hub) return { status: Number(hub[1]), reason: hub[2].trim() };
  const bare = /Unexpected server response: ([1-5]\d\d)\b|Status code '([1-5]\d\d)'/.exec(message);
  const status = bare?.[1] ?? bare?.[2];
  return status === undefined ? undefined : { status: Number(status) };
}
