// Real parts for the Node and browser tests: the built atr-server in a child process, as a user runs
// it, and a redis-server of its own, both on free loopback ports.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The atr-server.dll built last, Debug or Release: an older build of the other is stale. */
export function serverDll() {
  const [newest] = ["Debug", "Release"]
    .map((configuration) => path.join(root, "Atr.Server", "bin", configuration, "net10.0", "atr-server.dll"))
    .filter((dll) => existsSync(dll))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (newest) return newest;
  throw new Error("atr-server.dll is not built: run `dotnet build Atr.sln` (./test.sh does) before the Node tests.");
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves with the first match of `pattern` in the child's output; rejects if it cannot start, exits or takes 30 s. */
function waitForLine(child, pattern, what, hint = "") {
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${output}`));
    });
    // A spawn that fails (no such program) emits "error", and perhaps no "exit".
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${what} could not be started${hint}: ${error.message}`));
    });
  });
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** A redis-server of the test's own; a missing redis-server fails the test. */
export async function startRedis() {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  await waitForLine(child, /Ready to accept connections/, "redis-server", " (is it installed? ./test.sh installs it)");
  return { configuration: `127.0.0.1:${port}`, stop: () => stopChild(child) };
}

/** The hub; `start()` again after `stop()` restarts it on the same port. */
export async function startHub(args = [], port = 0) {
  let child;
  const hub = {
    baseUrl: "",
    wsUrl: "",
    async start() {
      child = spawn("dotnet", [serverDll(), "start", "--server-port", String(port), ...args], { stdio: ["ignore", "pipe", "pipe"] });
      const [, baseUrl] = await waitForLine(child, /^Atr hub listening on (http:\/\/\S+)$/m, "atr-server");
      hub.baseUrl = baseUrl;
      hub.wsUrl = baseUrl.replace(/^http/, "ws");
      port = Number(new URL(baseUrl).port);
    },
    async publish(events, token) {
      const headers = { "content-type": "application/json" };
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch(`${hub.baseUrl}/publish`, { method: "POST", headers, body: JSON.stringify(events) });
      if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
      return (await response.json()).ids;
    },
    stop: () => stopChild(child),
  };
  await hub.start();
  return hub;
}

/** Resolves with the next value pushed, or rejects after a bounded wait. */
export function queue() {
  const items = [];
  const waiters = [];
  return {
    push(item) {
      const waiter = waiters.shift();
      if (waiter) waiter(item);
      else items.push(item);
    },
    next(timeoutMs = 30_000) {
      if (items.length) return Promise.resolve(items.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nothing arrived within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((item) => {
          clearTimeout(timer);
          resolve(item);
        });
      });
    },
    get length() {
      return items.length;
    },
  };
}
