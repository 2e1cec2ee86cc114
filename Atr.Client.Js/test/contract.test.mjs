// What the hub (C#) and the client (TypeScript) both know, held to each other: the close codes, and
// the refusal statuses the hub answers against those the client decides on. A code or status added
// on one side only fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { AtrCloseCodes } from "../dist/esm/index.js";
import { root } from "./support/hub.mjs";

const read = (...parts) => readFile(path.join(root, ...parts), "utf8");

/** Every .cs file under a folder of the repository, but build output. */
async function csharpSources(folder) {
  const entries = await readdir(path.join(root, folder), { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".cs"))
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
    .filter((file) => !/[\\/](bin|obj)[\\/]/.test(path.relative(root, file)));
  return Promise.all(files.map(async (file) => ({ file: path.relative(root, file), text: await readFile(file, "utf8") })));
}

const matches = (text, pattern) => [...text.matchAll(pattern)];

test("the close codes of Atr.Hub's AtrCloseCodes and the client's are the same names and numbers", async () => {
  const source = await read("Atr.Hub", "AtrCloseCodes.cs");
  const csharp = Object.fromEntries(matches(source, /public const int (\w+) = (\d+);/g).map(([, name, value]) => [name, Number(value)]));
  assert.ok(Object.keys(csharp).length > 0, "no `public const int` found in Atr.Hub/AtrCloseCodes.cs");
  assert.deepEqual({ ...AtrCloseCodes }, csharp);
});

test("the refusal statuses the hub answers are the statuses the client decides on", async () => {
  // Raw handshakes and plain GETs: `new Refusal(StatusCodes.Status403Forbidden, …)`, or target-typed `new(StatusCodes.…)`.
  // SignalR: hub errors and the close at expiry whose message begins with the status, `"403: …"`,
  // and the hub's refusals, `Refuse(RefusalLog.Subscribe, 403, …)` (a HubRefusal, `"403: …"`).
  const hub = new Map();
  for (const { file, text } of await csharpSources("Atr.Hub")) {
    const found = [
      ...matches(text, /new(?: Refusal)?\(StatusCodes\.Status(\d{3})/g),
      ...matches(text, /new (?:HubException|CloseMessage)\(\$?"(\d{3}): /g),
      ...matches(text, /\bRefuse\(RefusalLog\.\w+, (\d{3}),/g),
    ];
    for (const [, status] of found) hub.set(Number(status), [...(hub.get(Number(status)) ?? []), file]);
  }
  assert.ok(hub.size > 0, "no refusal found in Atr.Hub's sources");

  const source = await read("Atr.Client.Js", "src", "closeCodes.ts");
  const table = /const refusalDecisions\b[^{]*\{([^}]*)\}/.exec(source);
  assert.ok(table, "no refusalDecisions table in src/closeCodes.ts");
  const client = matches(table[1], /^\s*(\d{3}):/gm).map(([, status]) => Number(status));

  const sorted = (statuses) => [...new Set(statuses)].sort((a, b) => a - b);
  assert.deepEqual(sorted(client), sorted(hub.keys()),
    `the hub answers ${sorted(hub.keys()).map((status) => `${status} (${[...new Set(hub.get(status))].join(", ")})`).join(", ")}; the client decides on ${sorted(client).join(", ")}`);
});
