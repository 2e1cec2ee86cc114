// The hub against the real @microsoft/signalr client, JSON and MessagePack: it receives exactly the object a raw client does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { HubConnectionBuilder, LogLevel } from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { startHub, queue } from "./support/hub.mjs";

let hub;

before(async () => {
  hub = await startHub();
});

after(async () => {
  await hub?.stop();
});

async function rawClient(path) {
  const socket = new WebSocket(`${hub.wsUrl}${path}`);
  const frames = queue();
  socket.on("message", (data) => frames.push(data.toString("utf8")));
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  return { frames, close: () => socket.close() };
}

async function signalRClient(scope, protocol) {
  let builder = new HubConnectionBuilder()
    .withUrl(`${hub.baseUrl}/hub?scope=${encodeURIComponent(scope)}`)
    .configureLogging(LogLevel.Warning);
  if (protocol) builder = builder.withHubProtocol(protocol);
  const connection = builder.build();
  const events = queue();
  connection.on("event", (event) => events.push(event));
  await connection.start();
  // start() resolves at the handshake, before the hub subscribed ?scope=; an invocation waits for it.
  await connection.invoke("Subscribe", scope);
  return { connection, events };
}

test("the JSON and MessagePack SignalR clients receive the raw frame's object, key for key", async () => {
  const raw = await rawClient("/organization/1234");
  const json = await signalRClient("organization.1234");
  const msgpack = await signalRClient("organization.1234", new MessagePackHubProtocol());
  try {
    await hub.publish({
      scope: "organization.1234",
      name: "post.created",
      record: { id: 7, title: "Héllo <b>", tags: ["a", "b"], score: 1.5, draft: false, body: null },
      record_type: "Post",
    });

    const frame = await raw.frames.next();
    const fromJson = await json.events.next();
    const fromMsgpack = await msgpack.events.next();

    assert.equal(JSON.stringify(fromJson), frame);
    assert.equal(JSON.stringify(fromMsgpack), frame);
    assert.deepEqual(Object.keys(fromJson), ["id", "name", "occured_at", "record", "record_type", "routing_key"]);
    assert.equal(fromJson.routing_key, "organization.1234.post.created");
  } finally {
    raw.close();
    await json.connection.stop();
    await msgpack.connection.stop();
  }
});
