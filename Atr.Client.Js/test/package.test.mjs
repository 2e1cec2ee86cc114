// The published package: `npm pack` (which builds through prepack), installed into an empty project
// outside the repository, then loaded the ways a consumer would: import, require, TypeScript.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repository = path.resolve(packageDir, "..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

// `npm test` hands its scripts its own settings (npm_config_*, npm_package_*, npm_lifecycle_*): the
// children run as from a fresh shell, so none of them leaks into the consumer's install.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));

let temp;
let consumer;
let tarballEntries;

/** Runs a command to completion within `timeoutMs`; rejects with its output when it fails. */
function run(command, args, { cwd, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, shell: process.platform === "win32" && command === "npm" },
      (error, stdout, stderr) => error
        ? reject(new Error(`${command} ${args.join(" ")} failed (${error.killed ? `killed after ${timeoutMs} ms` : `exit ${error.code}`}):\n${stdout}\n${stderr}`))
        : resolve(stdout));
  });
}

before(async () => {
  temp = await mkdtemp(path.join(os.tmpdir(), "atr-client-package-"));
  assert.ok(path.relative(repository, temp).startsWith(".."), `${temp} is inside the repository`);
  const packDir = path.join(temp, "pack");
  consumer = path.join(temp, "consumer");
  await Promise.all([mkdir(packDir), mkdir(consumer)]);

  await run("npm", ["pack", "--pack-destination", packDir], { cwd: packageDir, timeoutMs: 90_000 });
  const [tarball, ...others] = (await readdir(packDir)).filter((name) => name.endsWith(".tgz"));
  assert.ok(tarball && others.length === 0, "npm pack wrote one tarball");
  tarballEntries = (await run("tar", ["-tzf", path.join(packDir, tarball)])).split(/\r?\n/).filter(Boolean);

  await writeFile(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
  // The package has no dependencies (SignalR is an optional peer): installing it needs no registry.
  await run("npm", ["install", path.join(packDir, tarball), "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: consumer });
});

after(async () => {
  if (temp) await rm(temp, { recursive: true, force: true });
});

test("the tarball holds the readme, the builds and both flavours of types, and no sources or tests", async () => {
  for (const entry of ["package/package.json", "package/README.md", "package/dist/esm/index.js", "package/dist/cjs/index.cjs",
    "package/dist/types/index.d.ts", "package/dist/types/index.d.cts", "package/dist/browser/atr-client.js", "package/dist/browser/atr-client.mjs"]) {
    assert.ok(tarballEntries.includes(entry), `${entry} is missing from ${tarballEntries.join(", ")}`);
  }
  const stray = tarballEntries.filter((entry) => !/^package\/(package\.json|README\.md|dist\/.+)$/.test(entry));
  assert.deepEqual(stray, [], "only package.json, README.md and dist/ are packed");
  assert.equal(tarballEntries.filter((entry) => /(^|\/)(src|test)\//.test(entry)).length, 0);

  // Every file package.json points at is in the tarball.
  const manifest = JSON.parse(await readFile(path.join(packageDir, "package.json"), "utf8"));
  const targets = [manifest.main, manifest.module, manifest.types, manifest.unpkg, manifest.jsdelivr];
  const collect = (value) => typeof value === "string" ? targets.push(value) : Object.values(value).forEach(collect);
  collect(manifest.exports);
  for (const target of targets.filter(Boolean)) {
    assert.ok(tarballEntries.includes(path.posix.join("package", target)), `package.json names ${target}, which is not packed`);
  }
});

test("an es module imports the installed package from dist/esm, and its browser entry", async () => {
  const script = `
    import { AtrClient, ExponentialBackoff, AtrCloseCodes, AtrConnectionError } from "@atr/client";
    import { AtrClient as BrowserClient } from "@atr/client/browser";
    console.log(JSON.stringify({
      exports: [typeof AtrClient, typeof ExponentialBackoff, typeof AtrCloseCodes, typeof AtrConnectionError],
      resolved: import.meta.resolve("@atr/client"),
      browser: typeof BrowserClient,
      client: new AtrClient("http://127.0.0.1:1", { scope: "organization.1", WebSocket: class {} }).state,
    }));`;
  const result = JSON.parse(await run("node", ["--input-type=module", "-e", script], { cwd: consumer, timeoutMs: 20_000 }));
  assert.deepEqual(result.exports, ["function", "function", "object", "function"]);
  assert.match(result.resolved, /\/node_modules\/@atr\/client\/dist\/esm\/index\.js$/);
  assert.equal(result.browser, "function");
  assert.equal(result.client, "disconnected");
});

test("a commonjs module requires the installed package from dist/cjs, and its package.json", async () => {
  const script = `
    const { AtrClient, ExponentialBackoff, AtrCloseCodes, AtrConnectionError } = require("@atr/client");
    console.log(JSON.stringify({
      exports: [typeof AtrClient, typeof ExponentialBackoff, typeof AtrCloseCodes, typeof AtrConnectionError],
      resolved: require.resolve("@atr/client"),
      version: require("@atr/client/package.json").version,
      client: new AtrClient("http://127.0.0.1:1", { scope: "organization.1", WebSocket: class {} }).state,
    }));`;
  const result = JSON.parse(await run("node", ["-e", script], { cwd: consumer, timeoutMs: 20_000 }));
  assert.deepEqual(result.exports, ["function", "function", "object", "function"]);
  assert.match(result.resolved, /[\\/]node_modules[\\/]@atr[\\/]client[\\/]dist[\\/]cjs[\\/]index\.cjs$/);
  assert.equal(result.version, JSON.parse(await readFile(path.join(packageDir, "package.json"), "utf8")).version);
  assert.equal(result.client, "disconnected");
});

// Types that fail to resolve would turn into `any` and pass silently: the misuse under
// @ts-expect-error must be an error, and the library's own .d.ts are checked (no skipLibCheck).
const usage = `
const client: AtrClient = new AtrClient("http://127.0.0.1:7777", { scope: { organization: 1234 } });
client.on("post.created", (event: AtrEvent) => void event.routing_key.length);
client.onState((state: ConnectionState) => void state);
const backoff: RetryPolicy = new ExponentialBackoff({ initialDelayMs: 500 });
void backoff;
// @ts-expect-error the options need a scope
new AtrClient("http://127.0.0.1:7777", {});
`;

async function typeCheck(file, source) {
  await writeFile(path.join(consumer, file), source);
  await run("node", [tsc, "--noEmit", "--strict", "--module", "node16", "--moduleResolution", "node16", "--target", "es2020", "--lib", "es2020", file],
    { cwd: consumer, timeoutMs: 60_000 });
}

test("typescript with module node16 types an import of the package", async () => {
  await typeCheck("consumer.mts", `import { AtrClient, ExponentialBackoff, type AtrEvent, type ConnectionState, type RetryPolicy } from "@atr/client";\n${usage}`);
});

test("typescript with module node16 types a require of the package", async () => {
  await typeCheck("consumer.cts", `import atr = require("@atr/client");
const { AtrClient, ExponentialBackoff } = atr;
type AtrClient = atr.AtrClient;
type AtrEvent = atr.AtrEvent;
type ConnectionState = atr.ConnectionState;
type RetryPolicy = atr.RetryPolicy;
${usage}`);
});
