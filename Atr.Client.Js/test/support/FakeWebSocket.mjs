// A WebSocket the test drives by hand: it opens, delivers, fails or closes only when told to.
import { waitUntil } from "./waitUntil.mjs";

export class FakeWebSocket {
  static instances = [];

  constructor(url) {
    this.url = url;
    this.onopen = null;
    this.onmessage = null;
    this.onerror = null;
    this.onclose = null;
    this.closedByClient = null;
    FakeWebSocket.instances.push(this);
  }

  static reset() {
    FakeWebSocket.instances = [];
  }

  /** Resolves when the client has opened its nth socket. */
  static async waitFor(count, timeoutMs = 5_000) {
    await waitUntil(() => FakeWebSocket.instances.length >= count, {
      timeoutMs,
      message: () => `the client opened ${FakeWebSocket.instances.length} sockets, not ${count}`,
    });
    return FakeWebSocket.instances[count - 1];
  }

  open() {
    this.onopen?.({});
  }

  message(data) {
    this.onmessage?.({ data: typeof data === "string" ? data : JSON.stringify(data) });
  }

  /** A refused handshake as Node's ws reports it. */
  refuse(status) {
    this.fail(`Unexpected server response: ${status}`);
  }

  /** An attempt that fails before it opens, with Node's ws's error text. */
  fail(message) {
    this.onerror?.({ message });
    this.onclose?.({ code: 1006, reason: "" });
  }

  /** A failed attempt as a browser reports it, whatever the cause: an error event that says nothing, then 1006. */
  failSilently() {
    this.onerror?.({});
    this.onclose?.({ code: 1006, reason: "" });
  }

  serverClose(code, reason = "") {
    this.onclose?.({ code, reason });
  }

  close(code) {
    this.closedByClient = code ?? 1000;
    this.onclose?.({ code: code ?? 1000, reason: "" });
  }
}
