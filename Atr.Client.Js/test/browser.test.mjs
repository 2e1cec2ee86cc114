// A real browser: Debian's Chromium, driven by playwright-core, on the hub's demo page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { launchChromium } from "./support/chromium.mjs";
import { startHub, root } from "./support/hub.mjs";

const artifacts = path.join(root, "Atr.Client.Js", "test-results");
let hub;
let browser;

before(async () => {
  hub = await startHub(["--demo"]);
  browser = await launchChromium();
  mkdirSync(artifacts, { recursive: true });
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

test("the demo page shows an event published with plain HTTP", async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${hub.baseUrl}/demo/?scope=organization.1234`);
  await page.locator('#state[data-state="connected"]').waitFor({ timeout: 30_000 });

  // What `curl -X POST …/publish` does.
  const response = await fetch(`${hub.baseUrl}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ scope: "organization.1234", name: "post.created", record: { id: 7, title: "Hello from curl" }, record_type: "Post" }),
  });
  assert.equal(response.status, 202);

  const event = page.locator(".event", { hasText: "post.created" });
  await event.waitFor({ timeout: 30_000 });
  assert.match(await event.textContent(), /Hello from curl/);
  await page.screenshot({ path: path.join(artifacts, "demo.png") });
  assert.deepEqual(errors, []);
  await page.close();
});

test("the bundle loads without a build step: a script tag gives Atr, an ES module import gives AtrClient", async () => {
  const page = await browser.newPage();
  await page.goto(`${hub.baseUrl}/demo/`);
  assert.equal(await page.evaluate(() => typeof window.Atr?.AtrClient), "function");

  const received = page.evaluate(async (base) => {
    const { AtrClient } = await import(`${base}/demo/atr-client.mjs`);
    const client = new AtrClient(base, { scope: "organization.77" });
    const first = new Promise((resolve) => client.on("module.loaded", resolve));
    await client.start();
    window.__atrReady = true;
    const event = await first;
    await client.stop();
    return event.record;
  }, hub.baseUrl);
  await page.waitForFunction(() => window.__atrReady === true, null, { timeout: 30_000 });
  await hub.publish({ scope: "organization.77", name: "module.loaded", record: { ok: true } });

  assert.deepEqual(await received, { ok: true });
  await page.close();
});
