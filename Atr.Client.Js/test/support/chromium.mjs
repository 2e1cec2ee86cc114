// Debian's Chromium, driven by playwright-core, as every browser test launches it.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

const executablePath = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((candidate) => existsSync(candidate));

/** Launches Chromium; in CI a missing browser fails the run (./test.sh installs Debian's chromium). */
export function launchChromium() {
  assert.ok(executablePath, "Chromium is not installed: apt-get install -y chromium (./test.sh does), or set CHROMIUM_PATH.");
  return chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
