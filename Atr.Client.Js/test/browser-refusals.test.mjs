// The client in a real browser, which never sees why a WebSocket handshake failed: it asks the hub,
// then stops on a scope not granted, refreshes an expired token, and backs off while the hub is down.
// The page comes from another origin than the hubs, as an application's would.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { launchChromium } from "./support/chromium.mjs";
import { startHub } from "./support/hub.mjs";

const jwtKey = "browser-refusals-signing-key-long-enough-for-hs256";
const wait = { timeout: 30_000 };
let jwt;
let restartable;
let app;
let appUrl;
let browser;

before(async () => {
  [jwt, restartable] = await Promise.all([startHub(["--demo", "--jwt-key", jwtKey]), startHub()]);
  app = createServer((request, response) => response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>app</title>"));
  await new Promise((resolve) => app.listen(0, "127.0.0.1", resolve));
  appUrl = `http://127.0.0.1:${app.address().port}/`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (app ? app.close(resolve) : resolve()));
  await Promise.all([jwt?.stop(), restartable?.stop()]);
});

/** An HS256 token as the hub checks it: issuer and audience `atr`, `atr_scopes`, `exp` `expiresIn` seconds from now (negative: expired). */
function token({ scopes = [], publish = false, expiresIn = 3_600 }) {
  const now = Math.floor(Date.now() / 1000);
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const claims = { iss: "atr", aud: "atr", sub: "browser-test", iat: now - 600, nbf: now - 600, exp: now + expiresIn, atr_scopes: scopes };
  if (publish) claims.atr_publish = true;
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
  return `${unsigned}.${createHmac("sha256", jwtKey).update(unsigned).digest("base64url")}`;
}

/**
 * A page of the app's origin with the script bundle of `hub`, which records the WebSocket attempts
 * (with their time) and the requests that ask the hub why; the test asserts the page threw nothing.
 */
async function appPage(hub) {
  const page = await browser.newPage();
  page.errors = [];
  page.sockets = [];
  page.questions = [];
  page.on("pageerror", (error) => page.errors.push(error.message));
  page.on("websocket", (socket) => page.sockets.push({ url: socket.url(), at: Date.now() }));
  const question = (request) => request.resourceType() === "fetch" && /^http:\/\/[^/]+\/organization\//.test(request.url());
  page.on("requestfinished", async (request) => {
    if (question(request)) page.questions.push({ url: request.url(), at: Date.now(), status: (await request.response())?.status() });
  });
  page.on("requestfailed", (request) => {
    if (question(request)) page.questions.push({ url: request.url(), at: Date.now(), failed: request.failure()?.errorText });
  });
  await page.goto(appUrl);
  await page.addScriptTag({ url: `${hub.baseUrl}/demo/atr-client.js` });
  return page;
}

/** Starts a client in the page; its states, errors and events are recorded on `window.atr`. */
async function startClient(page, hubUrl, options) {
  await page.evaluate(({ hubUrl, options }) => {
    const { scope, tokens = [], random } = options;
    const atr = (window.atr = { states: [], events: [], tokensIssued: 0, settled: undefined });
    const client = new Atr.AtrClient(hubUrl, {
      scope,
      // The token function: each call hands out the next of `tokens` (the last one again once they run out).
      token: tokens.length ? () => tokens[Math.min(atr.tokensIssued++, tokens.length - 1)] : undefined,
      retryPolicy: new Atr.ExponentialBackoff(random === undefined ? {} : { random: () => random }),
    });
    atr.client = client;
    client.onState((state, error) => atr.states.push({ state, code: error?.code, refused: error?.refused, message: error?.message }));
    client.onAny((event) => atr.events.push(event));
    client.start().then(() => (atr.settled = "resolved"), (error) => (atr.settled = `rejected: ${error.code} ${error.message}`));
  }, { hubUrl, options });
}

const states = (page) => page.evaluate(() => window.atr.states);

test("a token that does not grant the scope: refused with 403 and the hub's reason, and no further handshake for 30 s", { timeout: 120_000 }, async () => {
  const page = await appPage(jwt);
  await startClient(page, jwt.baseUrl, { scope: "organization.2", tokens: [token({ scopes: ["organization.1"] })] });

  await page.waitForFunction(() => window.atr.settled !== undefined, null, wait);
  assert.equal(await page.evaluate(() => window.atr.settled), "rejected: 403 The token does not grant this scope (claim atr_scopes).");
  const last = (await states(page)).at(-1);
  assert.deepEqual(last, { state: "disconnected", code: 403, refused: true, message: "The token does not grant this scope (claim atr_scopes)." });
  assert.equal(page.sockets.length, 1);
  assert.deepEqual(page.questions.map(({ status }) => status), [403]);
  assert.match(page.questions[0].url, new RegExp(`^${jwt.baseUrl}/organization/2\\?access_token=`));

  // A bounded wait for a handshake that must not come.
  const another = await page.waitForEvent("websocket", { timeout: 30_000 }).then(() => true, () => false);
  assert.equal(another, false, `the client tried again: ${page.sockets.length} WebSocket attempts`);
  assert.equal(await page.evaluate(() => window.atr.client.state), "disconnected");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("an expired token: the client asks the token function for a fresh one, reconnects and receives events", async () => {
  const page = await appPage(jwt);
  const expired = token({ scopes: ["organization.3"], expiresIn: -120 });
  const fresh = token({ scopes: ["organization.3"] });
  await startClient(page, jwt.baseUrl, { scope: "organization.3", tokens: [expired, fresh] });

  await page.waitForFunction(() => window.atr.client.state === "connected", null, wait);
  assert.equal(await page.evaluate(() => window.atr.tokensIssued), 2);
  assert.deepEqual(page.sockets.map(({ url }) => new URL(url).searchParams.get("access_token")), [expired, fresh]);
  assert.deepEqual(page.questions.map(({ status }) => status), [401]);
  const seen = await states(page);
  assert.deepEqual(seen.map(({ state }) => state), ["connecting", "reconnecting", "connected"]);
  assert.equal(seen[1].code, 401);
  assert.equal(seen[1].refused, false);

  await jwt.publish({ scope: "organization.3", name: "post.created", record: { title: "after a refresh" } }, token({ publish: true }));
  await page.waitForFunction(() => window.atr.events.length > 0, null, wait);
  assert.deepEqual(await page.evaluate(() => window.atr.events.map((event) => event.record)), [{ title: "after a refresh" }]);
  await page.evaluate(() => window.atr.client.stop());
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a hub that is down: the client retries with growing delays, and reconnects once it is back on the same port", { timeout: 120_000 }, async () => {
  const page = await appPage(jwt);
  // The default backoff with its jitter fixed at half the ceiling: delays of 250, 500, 1000, 2000, 4000 ms.
  await startClient(page, restartable.baseUrl, { scope: "organization.4", random: 0.5 });
  await page.waitForFunction(() => window.atr.client.state === "connected", null, wait);

  // The drop: the hub closes with 1001, answers 503 while it shuts down, then is gone.
  const droppedAt = Date.now();
  await restartable.stop();
  // A window in which attempts are counted, not a wait for something: attempts 1 to 4 come within
  // about 3.75 s of the drop (plus their own failures), the 5th not before 7.75 s.
  const observed = 6_000;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, droppedAt + observed - Date.now())));
  const attempts = page.sockets.slice(1).filter(({ at }) => at - droppedAt <= observed);
  const times = JSON.stringify(attempts.map(({ at }) => at - droppedAt));
  assert.ok(attempts.length >= 3 && attempts.length <= 6, `${attempts.length} attempts in ${observed} ms, at ${times} ms`);
  const gaps = attempts.slice(1).map(({ at }, i) => at - attempts[i].at);
  assert.ok(gaps.every((gap) => gap >= 200), `attempts closer than the backoff allows, at ${times} ms`);
  assert.ok(gaps.at(-1) > gaps[0], `delays that do not grow, at ${times} ms`);
  assert.ok(page.questions.length > 0 && page.questions.every(({ status }) => status === undefined || status === 503), `the hub answered as if up: ${JSON.stringify(page.questions)}`);
  assert.ok((await states(page)).slice(2).every(({ state, refused }) => state === "reconnecting" && !refused));
  assert.equal(await page.evaluate(() => window.atr.client.state), "reconnecting");

  await restartable.start();
  await page.waitForFunction(() => window.atr.client.state === "connected", null, { timeout: 60_000 });
  await restartable.publish({ scope: "organization.4", name: "post.created", record: { title: "back" } });
  await page.waitForFunction(() => window.atr.events.length > 0, null, wait);
  assert.equal(await page.evaluate(() => window.atr.events[0].record.title), "back");
  await page.evaluate(() => window.atr.client.stop());
  assert.deepEqual(page.errors, []);
  await page.close();
});
