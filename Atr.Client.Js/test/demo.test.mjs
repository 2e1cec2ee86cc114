// The demo page as a visitor meets it, in Debian's Chromium: on a phone and on a desktop, in
// anonymous mode and in JWT mode.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { launchChromium } from "./support/chromium.mjs";
import { startHub, root, serverDll } from "./support/hub.mjs";

const artifacts = path.join(root, "Atr.Client.Js", "test-results");
const jwtKey = "demo-signing-key-that-is-long-enough-for-hs256";
const wait = { timeout: 30_000 };
let anonymous;
let jwt;
let browser;

before(async () => {
  [anonymous, jwt] = await Promise.all([startHub(["--demo"]), startHub(["--demo", "--jwt-key", jwtKey])]);
  browser = await launchChromium();
  mkdirSync(artifacts, { recursive: true });
});

after(async () => {
  await browser?.close();
  await Promise.all([anonymous?.stop(), jwt?.stop()]);
});

/** A page that records its errors; the test asserts there were none. */
async function open(viewport, mobile) {
  const page = await browser.newPage({ viewport, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: mobile ? 2 : 1 });
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(error.message));
  return page;
}

const intersects = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (inner, outer) =>
  inner.x >= outer.x - 0.5 && inner.y >= outer.y - 0.5 && inner.x + inner.width <= outer.x + outer.width + 0.5 && inner.y + inner.height <= outer.y + outer.height + 0.5;

async function horizontalOverflow(page) {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

async function mintToken(scope) {
  const { stdout } = await promisify(execFile)("dotnet", [serverDll(), "token", "--scope", scope, "--publish", "--jwt-key", jwtKey], { timeout: 30_000 });
  return stdout.trim();
}

for (const { name, viewport, mobile } of [
  { name: "390", viewport: { width: 390, height: 844 }, mobile: true },
  { name: "1280", viewport: { width: 1280, height: 800 }, mobile: false },
]) {
  test(`at ${name} px the page connects by itself, fits the width and shows a published event clear of every control`, async () => {
    const page = await open(viewport, mobile);
    await page.goto(`${anonymous.baseUrl}/demo/`);
    await page.locator('#state[data-state="connected"]').waitFor(wait);
    assert.match(await page.locator("#where").textContent(), /organization\.1234/);

    const fits = await horizontalOverflow(page);
    assert.ok(fits.scrollWidth <= fits.innerWidth, `the page is ${fits.scrollWidth} px wide in a ${fits.innerWidth} px window`);
    for (const control of await page.locator("input, button, select, textarea").all()) {
      const box = await control.boundingBox();
      assert.ok(box.height >= 40, `a control is ${box.height} px tall, under 40`);
    }

    // What `curl -X POST …/publish` does.
    const response = await fetch(`${anonymous.baseUrl}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scope: "organization.1234", name: "post.created", record: { id: 7, title: `Hello at ${name} px` } }),
    });
    assert.equal(response.status, 202);
    const event = page.locator(".event", { hasText: `Hello at ${name} px` });
    await event.waitFor(wait);

    const eventBox = await event.boundingBox();
    assert.ok(eventBox.x >= 0 && eventBox.x + eventBox.width <= viewport.width, "the event stays inside the window");
    for (const other of await page.locator("input, button, select, textarea, h1, h2").all()) {
      const box = await other.boundingBox();
      const what = await other.evaluate((element) => element.id || element.tagName);
      assert.ok(!intersects(eventBox, box), `the event covers ${what}`);
    }

    // Long results wrap inside their card: a refusal whose detail quotes a long name, then a long name published.
    const result = page.locator("#published");
    const card = page.locator("#publishCard");
    async function assertFits(what) {
      const [resultBox, cardBox] = [await result.boundingBox(), await card.boundingBox()];
      assert.ok(inside(resultBox, cardBox), `the ${what} ${JSON.stringify(resultBox)} leaves its card ${JSON.stringify(cardBox)}`);
      assert.ok(await result.evaluate((element) => element.scrollWidth <= element.clientWidth), `the ${what}'s text overflows it`);
      const fitsNow = await horizontalOverflow(page);
      assert.ok(fitsNow.scrollWidth <= fitsNow.innerWidth, `with the ${what} the page is ${fitsNow.scrollWidth} px wide`);
    }
    await page.fill("#name", `post.${"segment_longer_than_sixty_four_characters_".repeat(4)}`);
    await page.click("#publish");
    await page.locator("#published", { hasText: "400 — 'name'" }).waitFor(wait);
    await assertFits("refusal");

    const longName = Array.from({ length: 6 }, (_, i) => `segment_${i}_of_a_long_event_name_that_keeps_going_and_going`).join(".");
    await page.fill("#name", longName);
    await page.click("#publish");
    await page.locator("#published", { hasText: "202 — published" }).waitFor(wait);
    await page.locator(".event", { hasText: "segment_5_of_a_long_event_name" }).waitFor(wait);
    await assertFits("result");

    await page.screenshot({ path: path.join(artifacts, `demo-${name}.png`), fullPage: true });
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

test("in jwt mode the page without a token says why it is refused and stops trying, then connects with a pasted token", async () => {
  const page = await open({ width: 1280, height: 800 }, false);
  const attempts = [];
  page.on("websocket", (socket) => attempts.push(socket.url()));
  await page.goto(`${jwt.baseUrl}/demo/`);

  await page.locator('#state[data-state="refused"]').waitFor(wait);
  const reason = await page.locator("#reason").textContent();
  assert.match(reason, /^401 — A valid token is required: .* Paste a token above\.$/);
  // Nothing more: a bounded wait for a WebSocket that must not come.
  const another = await page.waitForEvent("websocket", { timeout: 3_000 }).then(() => true, () => false);
  assert.equal(another, false, `the page kept trying: ${attempts.length} attempts`);
  assert.equal(attempts.length, 1, `${attempts.length} WebSocket attempts`);
  assert.equal(await page.locator("#state").getAttribute("data-state"), "refused");
  await page.screenshot({ path: path.join(artifacts, "demo-jwt-refused.png") });

  const token = await mintToken("organization.1234");
  await page.fill("#token", token);
  await page.click("#connect");
  await page.locator('#state[data-state="connected"]').waitFor(wait);
  assert.equal(await page.locator("#reason").isVisible(), false);

  await jwt.publish({ scope: "organization.1234", name: "post.created", record: { title: "Hello with a token" } }, token);
  await page.locator(".event", { hasText: "Hello with a token" }).waitFor(wait);
  // The page publishes with the same token.
  await page.fill("#record", '{"title": "Published from the page"}');
  await page.click("#publish");
  await page.locator("#published", { hasText: "202" }).waitFor(wait);
  await page.locator(".event", { hasText: "Published from the page" }).waitFor(wait);

  // A scope the token does not grant: 403, said plainly.
  await page.fill("#scope", "organization.99");
  await page.click("#connect");
  await page.locator('#state[data-state="refused"]').waitFor(wait);
  assert.match(await page.locator("#reason").textContent(), /^403 — The token does not grant this scope/);

  assert.deepEqual(page.errors, []);
  await page.close();
});
