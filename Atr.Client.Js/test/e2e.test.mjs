// AtrClient end to end: the built hub on real Redis, both transports, a hub restart.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
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
