// AtrClient against a hand-driven fake WebSocket and a fake fetch: dispatch, backoff, close codes,
// refusals, tokens, and recovery: the last event's id asked for on every reconnect.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { AtrClient, AtrConnectionError, ExponentialBackoff, AtrCloseCodes } from "../dist/esm/index.js";
import { FakeWebSocket } from "./support/FakeWebSocket.mjs";
import { waitUntil } from "./support/waitUntil.mjs";

const noDelay = { nextRetryDelayInMilliseconds: () => 0 };
// A retry policy that would wait a minute: a stop taken for a failed attempt would wait it out.
const slow = { nextRetryDelayInMilliseconds: () => 60_000 };
const event = (name, extra = {}) => ({ id: "0".repeat(32), name, occured_at: "2026-11-27T16:52:25.123+00:00", record: null, record_type: null, routing_key: `organization.1.${name}`, ...extra });

/** A fetch for the client's question after a silent failure: the hub answers `status` and `reason`; every URL asked is kept. */
function hubSays(status, reason = "") {
  const fetch = async (url, init) => {
    fetch.asked.push({ url, init });
    return { status, ok: status >= 200 && status < 300, text: async () => `${reason}\n` };
  };
  fetch.asked = [];
  return fetch;
}

/** A fetch that fails as a browser's does when the hub is down or CORS forbids reading the answer. */
function hubDown() {
  const fetch = async (url) => {
    fetch.asked.push({ url });
    throw new TypeError("Failed to fetch");
  };
  fetch.asked = [];
  return fetch;
}

function client(options = {}) {
  return new AtrClient("http://127.0.0.1:7777", { scope: { organization: 1 }, WebSocket: FakeWebSocket, retryPolicy: noDelay, fetch: hubDown(), ...options });
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
  const fetch = hubDown();
  const atr = client({ fetch });
  const errors = [];
  atr.onState((state, error) => { if (error) errors.push(error); });
  const start = atr.start();
  (await FakeWebSocket.waitFor(1)).fail("connect ECONNREFUSED 127.0.0.1:7777");
  (await FakeWebSocket.waitFor(2)).open();
  await start;
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, undefined);
  assert.equal(errors[0].refused, false);
  assert.equal(errors[0].message, "The connection failed, and the hub does not answer (Failed to fetch).");
  assert.equal(fetch.asked.length, 1);
  await atr.stop();
});

test("a status the platform reveals (Node's ws) decides without asking the hub", async () => {
  const fetch = hubSays(200);
  const atr = client({ fetch });
  const start = atr.start();
  (await FakeWebSocket.waitFor(1)).refuse(403);
  await assert.rejects(start, (error) => error.code === 403 && error.refused);
  assert.deepEqual(fetch.asked, []);
});

// A browser sees neither the status nor the reason of a refused handshake: the client asks the hub.
const grantRefused = "The token does not grant this scope (claim atr_scopes).";
for (const [status, reason] of [[403, grantRefused], [400, "Malformed scope path: use /<type>/<id>[/<type>/<id>...] with segments of 1 to 64 characters of [A-Za-z0-9_-], or / for unscoped events."]]) {
  test(`a silent failure the hub explains with ${status} stops with its reason, and no further handshake`, async () => {
    const fetch = hubSays(status, reason);
    let policyCalls = 0;
    const atr = client({ scope: { organization: 1234 }, token: () => "t.o.k", fetch, retryPolicy: { nextRetryDelayInMilliseconds: () => { policyCalls++; return 0; } } });
    const states = [];
    atr.onState((state, error) => states.push([state, error]));
    const start = atr.start();
    (await FakeWebSocket.waitFor(1)).failSilently();
    await assert.rejects(start, (error) => error instanceof AtrConnectionError && error.code === status && error.refused && error.message === reason);
    assert.deepEqual(fetch.asked.map(({ url }) => url), ["http://127.0.0.1:7777/organization/1234?access_token=t.o.k"]);
    assert.equal(fetch.asked[0].init.cache, "no-store");
    assert.deepEqual(states.map(([state]) => state), ["connecting", "disconnected"]);
    assert.equal(states[1][1].code, status);
    assert.equal(atr.state, "disconnected");
    assert.equal(policyCalls, 0);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(FakeWebSocket.instances.length, 1);
  });
}

test("the question goes to https for wss, with the same path and token", async () => {
  const fetch = hubSays(403, grantRefused);
  const atr = new AtrClient("wss://hub.example/", { scope: "organization.5", token: "a b", WebSocket: FakeWebSocket, fetch });
  const start = atr.start();
  (await FakeWebSocket.waitFor(1)).failSilently();
  await assert.rejects(start, (error) => error.code === 403);
  assert.deepEqual(fetch.asked.map(({ url }) => url), ["https://hub.example/organization/5?access_token=a%20b"]);
});

test("a silent failure the hub explains with 401 gets one attempt at once with the token function's next token", async () => {
  let issued = 0;
  const fetch = hubSays(401, "A valid token is required: pass it as ?access_token=<JWT> or Authorization: Bearer <JWT>.");
  let policyCalls = 0;
  const atr = client({ token: async () => `token-${++issued}`, fetch, retryPolicy: { nextRetryDelayInMilliseconds: () => { policyCalls++; return 0; } } });
  const start = atr.start();
  (await FakeWebSocket.waitFor(1)).failSilently();
  const second = await FakeWebSocket.waitFor(2);
  assert.match(second.url, /access_token=token-2$/);
  second.open();
  await start;
  assert.equal(atr.state, "connected");
  assert.equal(policyCalls, 0, "the refresh attempt does not wait for the backoff");
  await atr.stop();
});

test("a fresh token refused again stops with the hub's 401", async () => {
  let issued = 0;
  const reason = "A valid token is required: pass it as ?access_token=<JWT> or Authorization: Bearer <JWT>.";
  const fetch = hubSays(401, reason);
  const atr = client({ token: async () => `token-${++issued}`, fetch });
  const start = atr.start();
  (await FakeWebSocket.waitFor(1)).failSilently();
  (await FakeWebSocket.waitFor(2)).failSilently();
  await assert.rejects(start, (error) => error.code === 401 && error.refused && error.message === reason);
  assert.equal(issued, 2);
  assert.deepEqual(fetch.asked.map(({ url }) => url.replace(/.*=/, "")), ["token-1", "token-2"]);
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(FakeWebSocket.instances.length, 2);
});

test("a 401 for a token that is a string, or no token, stops at once: nothing can refresh it", async () => {
  for (const token of ["static", undefined]) {
    FakeWebSocket.reset();
    const atr = client({ token, fetch: hubSays(401, "A valid token is required.") });
    const start = atr.start();
    (await FakeWebSocket.waitFor(1)).failSilently();
    await assert.rejects(start, (error) => error.code === 401 && error.refused);
    assert.equal(FakeWebSocket.instances.length, 1);
  }
});

for (const [status, reason] of [[429, "Too many connections from this address."], [503, "Server shutting down; reconnect to another node or retry shortly."]]) {
  test(`a silent failure the hub explains with ${status} backs off and retries`, async () => {
    const contexts = [];
    const atr = client({ fetch: hubSays(status, reason), retryPolicy: { nextRetryDelayInMilliseconds: (context) => { contexts.push(context); return 0; } } });
    const start = atr.start();
    (await FakeWebSocket.waitFor(1)).failSilently();
    (await FakeWebSocket.waitFor(2)).open();
    await start;
    assert.equal(contexts.length, 1);
    assert.equal(contexts[0].retryReason.code, status);
    assert.equal(contexts[0].retryReason.message, reason);
    assert.equal(contexts[0].retryReason.refused, false);
    await atr.stop();
  });
}

for (const [what, options] of [
  ["the hub admits it now (200)", { fetch: hubSays(200, "Atr event hub. Connect a WebSocket to /<type>/<id>.") }],
  ["the hub does not answer the question", { fetch: hubDown() }],
  ["no fetch is at hand", { fetch: undefined }],
]) {
  test(`a silent failure backs off when ${what}`, async () => {
    const saved = globalThis.fetch;
    if (!options.fetch) delete globalThis.fetch;
    try {
      const contexts = [];
      const atr = client({ ...options, retryPolicy: { nextRetryDelayInMilliseconds: (context) => { contexts.push(context); return 0; } } });
      const start = atr.start();
      (await FakeWebSocket.waitFor(1)).failSilently();
      (await FakeWebSocket.waitFor(2)).failSilently();
      (await FakeWebSocket.waitFor(3)).open();
      await start;
      assert.equal(contexts.length, 2);
      assert.ok(contexts.every(({ retryReason }) => retryReason.code === undefined && !retryReason.refused));
      await atr.stop();
    } finally {
      globalThis.fetch = saved;
    }
  });
}

test("stop while the hub is being asked ends at once", { timeout: 5_000 }, async () => {
  let asked = false;
  const atr = client({ retryPolicy: slow, fetch: () => { asked = true; return new Promise(() => {}); } });
  const start = atr.start();
  (await FakeWebSocket.waitFor(1)).failSilently();
  await waitUntil(() => asked);
  await atr.stop();
  await start;
  assert.equal(atr.state, "disconnected");
  assert.equal(FakeWebSocket.instances.length, 1);
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

  // The fresh token after an expiry refused too: the client stops.
  fourth.serverClose(AtrCloseCodes.TokenExpired, "Token expired");
  (await FakeWebSocket.waitFor(5)).refuse(401);
  await waitUntil(() => atr.state === "disconnected");
  assert.equal(FakeWebSocket.instances.length, 5);
  assert.equal(issued, 5);
});

test("an expiry with a token that is a string stops: nothing can refresh it", async () => {
  const atr = client({ token: "static" });
  let last;
  atr.onState((state, error) => { last = error; });
  const socket = await started(atr);
  socket.serverClose(AtrCloseCodes.TokenExpired, "Token expired");
  await waitUntil(() => atr.state === "disconnected");
  assert.equal(last.code, AtrCloseCodes.TokenExpired);
  assert.equal(last.refused, false);
  assert.equal(FakeWebSocket.instances.length, 1);
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
  // The hub's refusals are HubRefusal, a HubException whose type name SignalR writes before the message.
  ["Server returned an error on close: Connection closed with an error. HubRefusal: 403: Scope 'organization.2' is not allowed for this connection: the token does not grant it (claim atr_scopes).", 403, "stop", "Scope 'organization.2' is not allowed for this connection: the token does not grant it (claim atr_scopes)."],
  ["An unexpected error occurred invoking 'SubscribeSince' on the server. HubRefusal: 400: Malformed since: the id of an event, 32 lowercase hexadecimal digits.", 400, "stop", "Malformed since: the id of an event, 32 lowercase hexadecimal digits."],
  ["An unexpected error occurred invoking 'Subscribe' on the server. HubRefusal: 429: A connection listens to at most 100 scopes.", 429, "backoff", "A connection listens to at most 100 scopes."],
  ["connect ECONNREFUSED 127.0.0.1:403", undefined, "backoff"],
]) {
  test(`signalr: ${decision} after "${message.slice(0, 60)}…"`, async () => {
    let attempts = 0;
    let policyCalls = 0;
    let issued = 0;
    const connection = { on() {}, onclose() {}, start: async () => { attempts++; throw new Error(message); }, invoke: async () => {}, stop: async () => {} };
    const signalR = { HubConnectionBuilder: class { withUrl() { return this; } configureLogging() { return this; } build() { return connection; } } };
    const atr = client({ transport: "signalr", signalR, token: () => `token-${++issued}`, retryPolicy: { nextRetryDelayInMilliseconds: () => { policyCalls++; return null; } } });
    await assert.rejects(atr.start(), (error) => error.code === code && error.message === reason && error.refused === (decision !== "backoff"));
    // stop: one attempt, no backoff; refresh: one more attempt at once with a fresh token, then stop; backoff: the policy at once.
    assert.deepEqual({ attempts, policyCalls }, { stop: { attempts: 1, policyCalls: 0 }, refresh: { attempts: 2, policyCalls: 0 }, backoff: { attempts: 1, policyCalls: 1 } }[decision]);
    assert.equal(issued, attempts);
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

// Recovery: the client remembers the id of the last event and asks the hub for what came after it.
const ids = ["0a", "1b", "2c", "3d"].map((pair) => pair.repeat(16));
const resync = (reason) => ({ name: "atr.resync", occured_at: "2026-11-27T16:52:25.123+00:00", reason, scope: "organization.1" });

test("the first connect asks for no since; every reconnect asks for the events after the last one received", async () => {
  const atr = client({ token: "t.o.k" });
  const first = await started(atr);
  assert.equal(first.url, "ws://127.0.0.1:7777/organization/1?access_token=t.o.k");
  assert.equal(atr.lastEventId, undefined);

  first.message(event("post.created", { id: ids[0] }));
  first.message(event("post.created", { id: ids[1] }));
  first.serverClose(1006);
  const second = await FakeWebSocket.waitFor(2);
  assert.equal(second.url, `ws://127.0.0.1:7777/organization/1?since=${ids[1]}&access_token=t.o.k`);

  // A reconnect that got nothing new asks from the same event again.
  second.open();
  await waitUntil(() => atr.state === "connected");
  second.serverClose(1001);
  const third = await FakeWebSocket.waitFor(3);
  assert.match(third.url, new RegExp(`\\?since=${ids[1]}&`));
  third.open();
  await waitUntil(() => atr.state === "connected");
  third.message(event("post.updated", { id: ids[2] }));

  // A start after stop resumes from the last event too.
  await atr.stop();
  const start = atr.start();
  const fourth = await FakeWebSocket.waitFor(4);
  assert.match(fourth.url, new RegExp(`\\?since=${ids[2]}&`));
  fourth.open();
  await start;
  await atr.stop();
});

test("atr.resync, events without an id and ids the hub would refuse leave the last id as it is", async () => {
  const atr = client();
  const socket = await started(atr);
  socket.message(event("post.created", { id: ids[0] }));
  socket.message(resync("history_unavailable"));
  socket.message(event("post.created", { id: undefined }));
  socket.message(event("post.created", { id: "not-an-id" }));
  socket.message(event("post.created", { id: ids[1].toUpperCase() }));
  socket.message({ ...resync("backplane_interrupted"), id: ids[3] });
  assert.equal(atr.lastEventId, ids[0]);
  socket.serverClose(1006);
  assert.match((await FakeWebSocket.waitFor(2)).url, new RegExp(`\\?since=${ids[0]}$`));
  await atr.stop();
});

test("each client keeps the last id of its own scope", async () => {
  const one = client({ scope: "organization.1" });
  const two = client({ scope: "organization.2" });
  const socketOne = await started(one);
  const socketTwo = await started(two);
  socketOne.message(event("post.created", { id: ids[0] }));
  socketTwo.message(event("post.created", { id: ids[1] }));
  socketOne.message(event("post.created", { id: ids[2] }));
  assert.deepEqual([one.lastEventId, two.lastEventId], [ids[2], ids[1]]);
  socketOne.serverClose(1006);
  socketTwo.serverClose(1006);
  const urls = [(await FakeWebSocket.waitFor(3)).url, (await FakeWebSocket.waitFor(4)).url].sort();
  assert.deepEqual(urls, [`ws://127.0.0.1:7777/organization/1?since=${ids[2]}`, `ws://127.0.0.1:7777/organization/2?since=${ids[1]}`]);
  await Promise.all([one.stop(), two.stop()]);
});

test("the application's since is asked on the first connect; one the hub would refuse throws", async () => {
  const atr = client({ since: ids[3] });
  assert.equal(atr.lastEventId, ids[3]);
  assert.equal((await started(atr)).url, `ws://127.0.0.1:7777/organization/1?since=${ids[3]}`);
  await atr.stop();
  for (const since of ["", "abc", ids[3].toUpperCase(), `${ids[3]}0`, 42]) {
    assert.throws(() => client({ since }), /Invalid since/);
  }
});

test("atr.resync reaches on and onAny with its reason, whichever it is", async () => {
  const atr = client();
  const heard = [];
  atr.on("atr.resync", (e) => heard.push(`on:${e.reason}:${e.scope}`)).onAny((e) => heard.push(`any:${e.name}`));
  const socket = await started(atr);
  socket.message(resync("history_unavailable"));
  socket.message(resync("backplane_interrupted"));
  assert.deepEqual(heard, ["on:history_unavailable:organization.1", "any:atr.resync", "on:backplane_interrupted:organization.1", "any:atr.resync"]);
  await atr.stop();
});

test("a frame from a socket the client let go of is not dispatched", async () => {
  const atr = client();
  const names = [];
  atr.onAny((e) => names.push(e.name));
  const socket = await started(atr);
  await atr.stop();
  socket.message(event("post.late", { id: ids[0] }));
  assert.deepEqual(names, []);
  assert.equal(atr.lastEventId, undefined);
});

/** A fake of @microsoft/signalr's module: each connection records its URL and invocations; `current()` drives the last one. */
function fakeSignalR() {
  const connections = [];
  class HubConnectionBuilder {
    withUrl(url) { this.url = url; return this; }
    configureLogging() { return this; }
    build() {
      const connection = {
        url: this.url,
        invoked: [],
        handlers: {},
        on(method, handler) { this.handlers[method] = handler; },
        onclose(handler) { this.closed = handler; },
        start: async () => {},
        invoke: async (...args) => { connection.invoked.push(args); },
        stop: async () => {},
        send(event) { this.handlers.event(event); },
      };
      connections.push(connection);
      return connection;
    }
  }
  return { module: { HubConnectionBuilder }, connections };
}

test("signalr: the first connect subscribes with Subscribe; a reconnect with SubscribeSince and the last id", async () => {
  const signalR = fakeSignalR();
  const atr = client({ transport: "signalr", signalR: signalR.module, scope: "organization.1234" });
  const received = [];
  atr.onAny((e) => received.push(e.name));
  await atr.start();
  const [first] = signalR.connections;
  assert.equal(first.url, "http://127.0.0.1:7777/hub");
  assert.deepEqual(first.invoked, [["Subscribe", "organization.1234"]]);

  first.send(event("post.created", { id: ids[0] }));
  first.send(resync("backplane_interrupted"));
  first.closed(new Error("Connection lost"));
  await waitUntil(() => signalR.connections.length === 2 && atr.state === "connected");
  const second = signalR.connections[1];
  assert.equal(second.url, "http://127.0.0.1:7777/hub");
  assert.deepEqual(second.invoked, [["SubscribeSince", "organization.1234", ids[0]]]);

  // The closed connection's late events are not dispatched.
  first.send(event("post.late", { id: ids[1] }));
  second.send(event("post.updated", { id: ids[2] }));
  assert.deepEqual(received, ["post.created", "atr.resync", "post.updated"]);
  assert.equal(atr.lastEventId, ids[2]);
  await atr.stop();
});

test("signalr: the application's since is asked on the first connect", async () => {
  const signalR = fakeSignalR();
  const atr = client({ transport: "signalr", signalR: signalR.module, since: ids[3] });
  await atr.start();
  assert.deepEqual(signalR.connections[0].invoked, [["SubscribeSince", "organization.1", ids[3]]]);
  await atr.stop();
});
