// AtrClient end to end: the built hub on real Redis, both transports, a hub restart, a refused scope.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import WebSocket from "ws";
import { AtrClient, ExponentialBackoff } from "../dist/esm/index.js";
import { startHub, startRedis, queue } from "./support/hub.mjs";
import { waitUntil } from "./support/waitUntil.mjs";

let redis;
let hub;

before(async () => {
  redis = await startRedis();
  hub = await startHub(["--redis", redis.configuration]);
});

after(async () => {
  await hub?.stop();
  await redis?.stop();
});

function listen(transport, scope) {
  const events = queue();
  const states = [];
  const client = new AtrClient(hub.baseUrl, {
    scope,
    transport,
    WebSocket,
    retryPolicy: new ExponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000 }),
  });
  client.onAny((event) => events.push(event));
  client.onState((state) => states.push(state));
  return { client, events, states };
}

test("both transports receive the published events as identical objects", async () => {
  const raw = listen("websocket", { organization: 1234 });
  const signalR = listen("signalr", "organization.1234");
  await Promise.all([raw.client.start(), signalR.client.start()]);
  try {
    const [id] = await hub.publish({ scope: "organization.1234", name: "post.created", record: { id: 7, title: "Hello", tags: ["a"] }, record_type: "Post" });
    const fromRaw = await raw.events.next();
    const fromSignalR = await signalR.events.next();
    assert.equal(fromRaw.id, id);
    assert.deepEqual(fromSignalR, fromRaw);
    assert.equal(JSON.stringify(fromSignalR), JSON.stringify(fromRaw));
    assert.deepEqual(await raw.client.channels(), await signalR.client.channels());
  } finally {
    await raw.client.stop();
    await signalR.client.stop();
  }
});

test("after the hub restarts, both clients reconnect and receive new events", async () => {
  const raw = listen("websocket", "organization.9");
  const signalR = listen("signalr", "organization.9");
  await Promise.all([raw.client.start(), signalR.client.start()]);
  try {
    await hub.stop();
    await waitUntil(() => raw.states.includes("reconnecting") && signalR.states.includes("reconnecting"), { timeoutMs: 20_000, intervalMs: 20 });
    await hub.start();
    await waitUntil(() => raw.client.state === "connected" && signalR.client.state === "connected", { timeoutMs: 30_000, intervalMs: 20 });

    await hub.publish({ scope: "organization.9", name: "post.updated", record: { id: 1 } });
    assert.equal((await raw.events.next()).name, "post.updated");
    assert.equal((await signalR.events.next()).name, "post.updated");
    assert.deepEqual(raw.states, ["connecting", "connected", "reconnecting", "connected"]);
  } finally {
    await raw.client.stop();
    await signalR.client.stop();
  }
});

test("a scope the token does not grant stops both transports with the hub's 403", async () => {
  const jwtKey = "e2e-refusal-signing-key-long-enough-for-hs256";
  const now = Math.floor(Date.now() / 1000);
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({ iss: "atr", aud: "atr", sub: "e2e", nbf: now - 60, exp: now + 3_600, atr_scopes: ["organization.1"] })}`;
  const token = `${unsigned}.${createHmac("sha256", jwtKey).update(unsigned).digest("base64url")}`;
  const guarded = await startHub(["--jwt-key", jwtKey]);
  try {
    for (const transport of ["websocket", "signalr"]) {
      // A refusal for good never consults the retry policy; this one would give up at its first call.
      let retries = 0;
      const client = new AtrClient(guarded.baseUrl, { scope: "organization.2", transport, WebSocket, token, retryPolicy: { nextRetryDelayInMilliseconds: () => (retries++, null) } });
      // Over SignalR the hub's reason comes along; Node's ws reports the handshake's status alone.
      const reason = transport === "signalr" ? /^Scope 'organization\.2' is not allowed/ : /HTTP 403/;
      await assert.rejects(client.start(), (error) => (error.code === 403 && error.refused && reason.test(error.message)) || assert.fail(`${transport}: ${error.code} ${error.message}`));
      assert.deepEqual({ transport, retries, state: client.state }, { transport, retries: 0, state: "disconnected" });
    }
  } finally {
    await guarded.stop();
  }
});
