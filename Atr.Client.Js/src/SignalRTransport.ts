import type { AtrEvent, Logger } from "./types.js";
import type { ClientTransport } from "./ClientTransport.js";
import { AtrConnectionError } from "./errors.js";
import { decideOnStatus, refusalIn } from "./closeCodes.js";

interface HubConnectionLike {
  on(method: string, handler: (argument: AtrEvent) => void): void;
  invoke(method: string, ...args: unknown[]): Promise<unknown>;
  onclose(handler: (error?: Error) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface BuilderLike {
  withUrl(url: string, options: { accessTokenFactory?: () => string }): BuilderLike;
  configureLogging(logger: { log(level: number, message: string): void }): BuilderLike;
  build(): HubConnectionLike;
}

interface SignalRModule {
  HubConnectionBuilder: new () => BuilderLike;
}

/**
 * @internal SignalR at `/hub`: the connection subscribes with `Subscribe(scope)`, or
 * `SubscribeSince(scope, since)` to recover what it missed; each event is one invocation of `event`.
 */
export class SignalRTransport implements ClientTransport {
  onEvent: (event: AtrEvent) => void = () => {};
  onClose: (reason: AtrConnectionError) => void = () => {};
  private connection: HubConnectionLike | undefined;

  constructor(
    private readonly url: string,
    private readonly scope: string,
    private readonly module: unknown,
    private readonly logger: Logger,
  ) {}

  async connect(token: string | undefined, since: string | undefined): Promise<void> {
    const signalR = await this.load();
    const connection = new signalR.HubConnectionBuilder()
      .withUrl(this.url, token ? { accessTokenFactory: () => token } : {})
      .configureLogging({ log: (level, message) => this.log(level, message) })
      .build();
    this.connection = connection;
    connection.on("event", (event) => {
      if (this.connection === connection) this.onEvent(event);
    });
    connection.onclose((error) => {
      if (this.connection !== connection) return;
      this.connection = undefined;
      this.onClose(failed(error?.message ?? "The SignalR connection closed."));
    });
    try {
      await connection.start();
      // The scope is subscribed by invocation, not with ?scope= at connect: a scope the query
      // subscribed is not subscribed again, so SubscribeSince would recover nothing. Once the
      // invocation returns, the events it recovered are on their way, first, and no live one is missed.
      if (since) await connection.invoke("SubscribeSince", this.scope, since);
      else await connection.invoke("Subscribe", this.scope);
    } catch (error) {
      await connection.stop().catch(() => {});
      this.connection = undefined;
      throw failed((error as Error)?.message ?? String(error));
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    await connection?.stop();
  }

  /** SignalR's levels: 0 trace … 3 warning, 4 error, 5 critical, 6 none. Its failures reach the client's own state anyway. */
  private log(level: number, message: string): void {
    if (level >= 4) this.logger.warn?.(`Atr (SignalR): ${message}`);
    else if (level === 3) this.logger.info?.(`Atr (SignalR): ${message}`);
    else this.logger.debug?.(`Atr (SignalR): ${message}`);
  }

  private async load(): Promise<SignalRModule> {
    const candidate = this.module ?? (globalThis as { signalR?: unknown }).signalR;
    if (candidate) return candidate as SignalRModule;
    try {
      return (await import("@microsoft/signalr")) as unknown as SignalRModule;
    } catch {
      this.logger.error?.("Atr: the signalr transport needs @microsoft/signalr (npm install @microsoft/signalr, or load it as the global signalR).");
      throw new AtrConnectionError("@microsoft/signalr is not available.", "stop");
    }
  }
}

/**
 * The hub's refusals, and its close at a token's expiry, begin with a status (`403: …`, `401: Token
 * expired; …`): the error then carries that status and the hub's reason, and decides as the raw
 * handshake's status does. A failure without one (the network, a negotiation SignalR could not
 * complete) keeps SignalR's text.
 */
function failed(message: string): AtrConnectionError {
  const refusal = refusalIn(message);
  return new AtrConnectionError(refusal?.reason ?? message, decideOnStatus(refusal?.status), refusal?.status);
}
