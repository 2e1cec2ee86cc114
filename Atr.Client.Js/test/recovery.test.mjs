// Recovery through a hub restart: the client's hub goes down in the middle of a stream that goes on
// through a second hub on the same Redis, and comes back on the same port. The clients reconnect
// with the id of their last event and get everything the history held, once and in order: in Node
// over both transports, in Chromium over the raw one, from a page of another origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import WebSocket from "ws";
import { AtrClient, ExponentialBackoff } from "../dist/esm/index.js";
import { launchChromium } from "./support/chromium.mjs";
import { startHub, startRedis } from "./support/hub.mjs";
import { waitUntil } from "./support/waitUntil.mjs";

const scope = "organization.8";
// Room for every event of the outage: the default 100 would be one hub restart on a busy machine.
const history = ["--history-size", "2000"];
// The stream's bound: at 20 ms apart, about a minute; the test needs a fraction of it.
const maxEvents = 2_000;
const wait = { timeoutMs: 30_000, intervalMs: 20 };
const quickRetries = () => new ExponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000 });

let redis;
let hubA;
let hubB;
let app;
let appUrl;
let browser;

before(async () => {
  redis = await startRedis();
  // A: the clients' hub, restarted by the test. B: the publishers' hub, which also serves the bundle.
  [hubA, hubB, browser] = await Promise.all([
    startHub(["--redis", redis.configuration, ...history]),
    startHub(["--redis", redis.configuration, ...history, "--demo"]),
    launchChromium(),
  ]);
  app = createServer((request, response) => response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>app</title>"));
  await new Promise((resolve) => app.listen(0, "127.0.0.1", resolve));
  appUrl = `http://127.0.0.1:${app.address().port}/`;
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (app ? app.close(resolve) : resolve()));
  await Promise.all([hubA?.stop(), hubB?.stop()]);
  await redis?.stop();
});

function nodeClient(transport) {
  const received = [];
  const states = [];
  const client = new AtrClient(hubA.baseUrl, { scope, transport, WebSocket, retryPolicy: quickRetries() });
  client.onAny((event) => received.push(event));
  client.onState((state, error) => states.push(error ? `${state} (${error.message})` : state));
  return {
    name: `node ${transport}`,
    start: () => client.start(),
    state: async () => client.state,
    stop: () => client.stop(),
    states: async () => states,
    received: async () => received,
  };
}

async function browserClient() {
  const page = await browser.newPage();
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(error.message));
  await page.goto(appUrl);
  await page.addScriptTag({ url: `${hubB.baseUrl}/demo/atr-client.js` });
  await page.evaluate(({ hubUrl, scope }) => {
    const atr = (window.atr = { events: [], states: [] });
    atr.client = new Atr.AtrClient(hubUrl, { scope, retryPolicy: new Atr.ExponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000 }) });
    atr.client.onAny((event) => atr.events.push(event));
    atr.client.onState((state, error) => atr.states.push(error ? `${state} (${error.message})` : state));
  }, { hubUrl: hubA.baseUrl, scope });
  return {
    name: "chromium websocket",
    page,
    start: () => page.evaluate(() => window.atr.client.start()),
    state: () => page.evaluate(() => window.atr.client.state),
    stop: () => page.evaluate(() => window.atr.client.stop()),
    states: () => page.evaluate(() => window.atr.states),
    received: () => page.evaluate(() => window.atr.events),
  };
}

/** Resolves once `condition` (async) holds; rejects with `message()` after `timeoutMs`. */
async function eventually(condition, message, { timeoutMs, intervalMs } = wait) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(message());
    await delay(intervalMs);
  }
}

test("a hub restart in the middle of a stream loses nothing the history held: Node over both transports, Chromium over the raw one", async (t) => {
  const node = [nodeClient("websocket"), nodeClient("signalr")];
  const page = await browserClient();
  const clients = [...node, page];
  try {
    await Promise.all(clients.map((c) => c.start()));
    const { published, outage } = await streamThroughRestart(clients);

    const last = published.at(-1);
    await Promise.all(clients.map((c) => eventually(async () => (await c.received()).at(-1)?.id === last, () => `${c.name} did not receive the last event`)));
    const expected = published.map((id, i) => ({ id, name: "stream.numbered", n: i + 1 }));
    for (const c of clients) {
      const received = (await c.received()).map(({ id, name, record }) => ({ id, name, n: record?.n }));
      assert.deepEqual(received, expected, `${c.name}: every event once, in order, and no atr.resync`);
      // Each lost its connection and came back. A SignalR client may come back twice: the hub
      // refuses raw handshakes once it is stopping, but SignalR may still connect to it until it exits.
      const states = await c.states();
      const names = states.map((state) => state.replace(/ \(.*/s, ""));
      assert.deepEqual(names.slice(0, 3), ["connecting", "connected", "reconnecting"], `${c.name}: ${states.join(" → ")}`);
      assert.equal(names.at(-1), "connected", `${c.name}: ${states.join(" → ")}`);
    }
    assert.deepEqual(page.page.errors, []);
    for (const c of clients) t.diagnostic(`${c.name}: ${(await c.states()).join(" → ")}`);
    t.diagnostic(`${published.length} events; hub A stopped in ${outage.stopped} ms, down ${outage.down} ms, every client connected again ${outage.reconnected} ms after the stop; about ${outage.to - outage.from} events published meanwhile`);
  } finally {
    // A client left running would keep reconnecting, and the test process alive.
    await Promise.all(clients.map((c) => c.stop()));
    await page.page.close();
  }
});

/**
 * Publishes numbered events through hub B, one every 20 ms, each acknowledged before the next;
 * once the clients have 10, stops hub A, publishes 25 more while it is down, restarts it, waits
 * for every client to be connected again, and publishes 25 more. Returns the ids in order.
 */
async function streamThroughRestart(clients) {
  const published = [];
  let publishing = true;
  const stream = (async () => {
    for (let n = 1; publishing && n <= maxEvents; n++) {
      const [id] = await hubB.publish({ scope, name: "stream.numbered", record: { n } });
      published.push(id);
      await delay(20);
    }
  })();
  const publishedAtLeast = (count) => eventually(async () => published.length >= count, () => `${published.length} events published, not ${count}`);
  const outage = {};
  try {
    await Promise.all(clients.map((c) => eventually(async () => (await c.received()).length >= 10, () => `${c.name} received fewer than 10 events`)));
    const stopping = Date.now();
    outage.from = published.length;
    await hubA.stop();
    outage.stopped = Date.now() - stopping;
    // Hub A stays down while the stream goes on: those events exist only in Redis's history.
    await publishedAtLeast(outage.from + 25);
    await hubA.start();
    outage.down = Date.now() - stopping;
    await eventually(async () => (await Promise.all(clients.map((c) => c.state()))).every((state) => state === "connected"), () => "the clients did not reconnect");
    outage.reconnected = Date.now() - stopping;
    outage.to = published.length;
    await publishedAtLeast(outage.to + 25);
  } finally {
    publishing = false;
    await stream;
  }
  return { published, outage };
}
