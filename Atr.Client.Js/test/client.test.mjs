// AtrClient against a hand-driven fake WebSocket: dispatch, backoff, close codes, tokens.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { AtrClient, ExponentialBackoff, AtrCloseCodes } from "../dist/esm/index.js";
import { FakeWebSocket } from "./support/FakeWebSocket.mjs";
import { waitUntil } from "./support/waitUntil.mjs";

const noDelay = { nextRetryDelayInMilliseconds: () => 0 };
const event = (name, extra = {}) => ({ id: "0".repeat(32), name, occured_at: "2026-11-27T16:52:25.123+00:00", record: null, record_type: null, routing_key: `organization.1.${name}`, ...extra });

function client(options = {}) {
  return new AtrClient("http://127.0.0.1:7777", { scope: { organization: 1 }, WebSocket: FakeWebSocket, retryPolicy: noDelay, ...options });
}

async function started(atr) {
  const start = atr.start();
  const socket = await FakeWebSocket.waitFor(FakeWebSocket.instances.length + 1);
  socket.open();
  await start;
  return socket;
}

beforeEach(() => FakeWebSocket.reset());

test("connects to the scope's path, with the token in the query", async () => {
  const atr = client({ scope: { organization: 1234, user: 42 }, token: "t.o.k" });
  const socket = await started(atr);
  assert.equal(socket.url, "ws://127.0.0.1:7777/organization/1234/user/42?access_token=t.o.k");
  assert.equal(atr.state, "connected");
  await atr.stop();
  assert.equal(atr.state, "disconnected");
  assert.equal(socket.closedByClient, 1000);
});

test("a second start while running returns the first one's promise", async () => {
  const atr = client();
  const first = atr.start();
  assert.equal(atr.start(), first);
  (await FakeWebSocket.waitFor(1)).open();
  await first;
  assert.equal(atr.start(), first);
  await atr.start();
  assert.equal(FakeWebSocket.instances.length, 1);
  await atr.stop();
});

test("the unscoped stream and string scopes map to their paths; bad scopes throw", async () => {
  for (const [scope, url] of [["", "ws://hub:1/"], ["organization.1234.user.42", "ws://hub:1/organization/1234/user/42"]]) {
    const atr = new AtrClient("ws://hub:1/", { scope, WebSocket: FakeWebSocket });
    assert.equal((await started(atr)).url, url);
    await atr.stop();
  }
  assert.throws(() => new AtrClient("ws://hub:1", { scope: "organization", WebSocket: FakeWebSocket }), /Invalid scope/);
  assert.throws(() => new AtrClient("ws://hub:1", { scope: { organization: "1*" }, WebSocket: FakeWebSocket }), /Invalid scope/);
});

test("dispatches by name and to onAny; off removes a handler; a throwing handler harms no other", async () => {
  const atr = client();
  const created = [];
  const any = [];
  const updated = (e) => created.push(`updated:${e.id}`);
  atr.on("post.created", (e) => created.push(e.name)).on("post.created", () => { throw new Error("boom"); }).on("post.updated", updated).onAny((e) => any.push(e.name));
  const socket = await started(atr);

  socket.message(event("post.created"));
  atr.off("post.updated", updated);
  socket.message(event("post.updated"));
  socket.message("not json");

  assert.deepEqual(created, ["post.created"]);
  assert.deepEqual(any, ["post.created", "post.updated"]);
  await atr.stop();
});

test("backoff waits a random time under a doubling ceiling, capped, with full jitter", () => {
  const low = new ExponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, random: () => 0 });
  const high = new ExponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, random: () => 0.999999 });
  const ceilings = [0, 1, 2, 3, 4, 10].map((n) => low.ceiling(n));
  assert.deepEqual(ceilings, [100, 200, 400, 800, 1_000, 1_000]);
  for (let n = 0; n < 12; n++) {
    const context = { previousRetryCount: n, elapsedMilliseconds: 0, retryReason: new Error() };
    assert.equal(low.nextRetryDelayInMilliseconds(context), 0);
    const top = high.nextRetryDelayInMilliseconds(context);
    assert.ok(top < low.ceiling(n) && top >= low.ceiling(n) - 1, `attempt ${n}: ${top}`);
  }
  const limited = new ExponentialBackoff({ maxRetries: 2 });
  assert.equal(limited.nextRetryDelayInMilliseconds({ previousRetryCount: 2, elapsedMilliseconds: 0, retryReason: new Error() }), null);
  // Over many draws the default spreads across the whole range.
  const draws = Array.from({ length: 2_000 }, () => new ExponentialBackoff().nextRetryDelayInMilliseconds({ previousRetryCount: 3, elapsedMilliseconds: 0, retryReason: new Error() }));
  assert.ok(Math.min(...draws) < 400 && Math.max(...draws) > 3_600 && Math.max(...draws) < 4_000);
});

for (const [code, name] of [[1001, "shutdown"], [AtrCloseCodes.SlowConsumer, "slow consumer"], [1006, "network loss"], [1011, "server error"]]) {
  test(`reconnects after ${name} (${code})`, async () => {
    const atr = client();
    const states = [];
    atr.onState((state) => states.push(state));
    const first = await started(atr);
    first.serverClose(code);
    const second = await FakeWebSocket.waitFor(2);
    second.open();
    await waitUntil(() => atr.state === "connected");
    assert.deepEqual(states, ["connecting", "connected", "reconnecting", "connected"]);
    await atr.stop();
  });
}

for (const [code, name] of [[1000, "unsubscribed"], [1003, "binary refused"], [1008, "policy"], [1009, "too big"]]) {
  test(`stops for good after ${name} (${code})`, async () => {
    const atr = client();
    let lastError;
    atr.onState((state, error) => { if (state === "disconnected") lastError = error; });
    const socket = await started(atr);
    socket.serverClose(code, "because");
    await waitUntil(() => atr.state === "disconnected");
    assert.equal(lastError.code, code);
    // "disconnected" is the run loop's last act: a retry, had there been one, would have opened a socket before it.
    assert.equal(FakeWebSocket.instances.length, 1);
  });
}

test("a refused scope (403) rejects start and is not retried", async () => {
  const atr = client();
  const start = atr.start();
  (await FakeWebSocket.waitFor(1)).refuse(403);
  await assert.rejects(start, (error) => error.code === 403);
  assert.equal(atr.state, "disconnected");
  assert.equal(FakeWebSocket.instances.length, 1);
});

test("a refused handshake that may pass (503) is retried", async () => {
  const atr = client();
  const states = [];
  atr.onState((state) => states.push(state));
  const start = atr.start();
  (await FakeWebSocket.waitFor(1)).refuse(503);
  (await FakeWebSocket.waitFor(2)).refuse(503);
  (await FakeWebSocket.waitFor(3)).open();
  await start;
  assert.equal(atr.state, "connected");
  await atr.stop();
  assert.deepEqual(states, ["connecting", "reconnecting", "connected", "disconnected"]);
});

test("an unreachable hub is retried, and the port in its error text is no HTTP status", async () => {
  const atr = client();
  const errors = [];
  atr.onState((state, error) => { if (error) errors.push(error); });
  const start = atr.start();
  (await FakeWebSocket.waitFor(1)).fail("connect ECONNREFUSED 127.0.0.1:7777");
  (await FakeWebSocket.waitFor(2)).open();
  await start;
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, undefined);
  assert.equal(errors[0].message, "The hub refused the connection.");
  await atr.stop();
});

test("an expired token is refreshed: the token function runs again and the client reconnects at once", async () => {
  let issued = 0;
  const delays = [];
  const atr = client({
    token: async () => `token-${++issued}`,
    retryPolicy: { nextRetryDelayInMilliseconds: (context) => { delays.push(context.previousRetryCount); return 0; } },
  });
  const first = await started(atr);
  assert.match(first.url, /access_token=token-1$/);

  first.serverClose(AtrCloseCodes.TokenExpired, "Token expired");
  const second = await FakeWebSocket.waitFor(2);
  assert.match(second.url, /access_token=token-2$/);
  assert.deepEqual(delays, [], "the refresh attempt does not wait for the backoff");
  second.open();
  await waitUntil(() => atr.state === "connected");

  // A 401 on reconnect also asks for a fresh token.
  second.serverClose(1006);
  (await FakeWebSocket.waitFor(3)).refuse(401);
  const fourth = await FakeWebSocket.waitFor(4);
  assert.match(fourth.url, /access_token=token-4$/);
  fourth.open();
  await waitUntil(() => atr.state === "connected");
  await atr.stop();
});

// The SignalR transport's failures as @microsoft/signalr words them, against a fake of its module:
// the hub's errors begin with their status and reason (`403: …`), which decides as the raw
// handshake's status does; the error then says the hub's reason alone.
for (const [message, code, decision, reason = message] of [
  ["Failed to complete negotiation with the server: Error: Forbidden: Status code '403'", 403, "stop"],
  ["Server returned an error on close: Connection closed with an error. HubException: 400: Malformed scope 'organization.*': use type.id pairs.", 400, "stop", "Malformed scope 'organization.*': use type.id pairs."],
  ["An unexpected error occurred invoking 'Subscribe' on the server. HubException: 403: Scope 'organization.2' is not allowed for this connection.", 403, "stop", "Scope 'organization.2' is not allowed for this connection."],
  ["Server returned an error on close: Connection closed with an error. HubException: 401: A valid token is required.", 401, "refresh", "A valid token is required."],
  ["Server returned an error on close: 401: Token expired; reconnect with a fresh token.", 401, "refresh", "Token expired; reconnect with a fresh token."],
  ["Server returned an error on close: Connection closed with an error. HubException: 429: Too many connections from this address.", 429, "backoff", "Too many connections from this address."],
  ["Server returned an error on close: Connection closed with an error. HubException: 503: The keys that verify tokens cannot be fetched right now; retry shortly.", 503, "backoff", "The keys that verify tokens cannot be fetched right now; retry shortly."],
  ["An unexpected error occurred invoking 'Subscribe' on the server. HubException: Event backplane unavailable; retry shortly.", undefined, "backoff"],
  ["connect ECONNREFUSED 127.0.0.1:403", undefined, "backoff"],
]) {
  test(`signalr: ${decision} after "${message.slice(0, 60)}…"`, async () => {
    let attempts = 0;
    let policyCalls = 0;
    const connection = { on() {}, onclose() {}, start: async () => { attempts++; throw new Error(message); }, invoke: async () => {}, stop: async () => {} };
    const signalR = { HubConnectionBuilder: class { withUrl() { return this; } configureLogging() { return this; } build() { return connection; } } };
    const atr = client({ transport: "signalr", signalR, retryPolicy: { nextRetryDelayInMilliseconds: () => { policyCalls++; return null; } } });
    await assert.rejects(atr.start(), (error) => error.code === code && error.message === reason);
    // stop: one attempt, no backoff; refresh: one more attempt at once, then the backoff; backoff: the policy at once.
    assert.deepEqual({ attempts, policyCalls }, { stop: { attempts: 1, policyCalls: 0 }, refresh: { attempts: 2, policyCalls: 1 }, backoff: { attempts: 1, policyCalls: 1 } }[decision]);
    assert.equal(atr.state, "disconnected");
  });
}

test("a retry policy that gives up leaves the client disconnected", async () => {
  const atr = client({ retryPolicy: { nextRetryDelayInMilliseconds: () => null } });
  const socket = await started(atr);
  socket.serverClose(1006);
  await waitUntil(() => atr.state === "disconnected");
  assert.equal(FakeWebSocket.instances.length, 1);
});

test("stop during a backoff wait ends it at once", async () => {
  const atr = client({ retryPolicy: { nextRetryDelayInMilliseconds: () => 60_000 } });
  const socket = await started(atr);
  socket.serverClose(1001);
  await waitUntil(() => atr.state === "reconnecting");
  const stopping = Date.now();
  await atr.stop();
  assert.ok(Date.now() - stopping < 1_000);
  assert.equal(atr.state, "disconnected");
});

// A retry policy that would wait a minute: a stop taken for a failed attempt would wait it out.
const slow = { nextRetryDelayInMilliseconds: () => 60_000 };

test("stop during connecting ends at once", { timeout: 5_000 }, async () => {
  const atr = client({ retryPolicy: slow });
  const states = [];
  atr.onState((state) => states.push(state));
  const start = atr.start();
  const socket = await FakeWebSocket.waitFor(1);
  await atr.stop();
  await start;
  assert.equal(socket.closedByClient, 1000);
  assert.deepEqual(states, ["connecting", "disconnected"]);
  assert.equal(FakeWebSocket.instances.length, 1);
});

test("stop while the token function is pending ends at once, and the late token opens nothing", { timeout: 5_000 }, async () => {
  let issue;
  const atr = client({ retryPolicy: slow, token: () => new Promise((resolve) => (issue = resolve)) });
  const states = [];
  atr.onState((state) => states.push(state));
  const start = atr.start();
  await waitUntil(() => issue);
  await atr.stop();
  await start;
  issue("late");
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(FakeWebSocket.instances.length, 0);
  assert.deepEqual(states, ["connecting", "disconnected"]);
});

test("start before stop has finished runs one client, not two", { timeout: 5_000 }, async () => {
  const atr = client();
  const first = await started(atr);
  first.serverClose(1006);
  await waitUntil(() => FakeWebSocket.instances.length === 2);
  const stopping = atr.stop();
  const restart = atr.start();
  await stopping;
  const next = await FakeWebSocket.waitFor(3);
  next.open();
  await restart;
  assert.equal(atr.state, "connected");
  // A run left over from before the stop would open sockets of its own: no retry waits here.
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(FakeWebSocket.instances.length, 3);
  next.serverClose(1006);
  const again = await FakeWebSocket.waitFor(4);
  again.open();
  await waitUntil(() => atr.state === "connected");
  await atr.stop();
  assert.equal(atr.state, "disconnected");
  assert.equal(FakeWebSocket.instances.length, 4);
});

test("without a WebSocket constructor the client says what to pass", () => {
  const saved = globalThis.WebSocket;
  delete globalThis.WebSocket;
  try {
    assert.throws(() => new AtrClient("http://hub", { scope: "" }), /pass options.WebSocket/);
  } finally {
    if (saved) globalThis.WebSocket = saved;
  }
});
