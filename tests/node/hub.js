// Starts the built atr-server in a child process on a free loopback port, as a user runs it.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function serverDll() {
  for (const configuration of ["Debug", "Release"]) {
    const dll = path.join(root, "Atr.Hub", "bin", configuration, "net10.0", "atr-server.dll");
    if (existsSync(dll)) return dll;
  }
  throw new Error("atr-server.dll is not built: run `dotnet build Atr.sln` (./test.sh does) before the Node tests.");
}

export async function startHub(args = []) {
  const child = spawn("dotnet", [serverDll(), "start", "--server-port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`atr-server did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /^Atr hub listening on (http:\/\/\S+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`atr-server exited with ${code}:\n${output}`));
    });
  });
  return {
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, "ws"),
    async publish(events) {
      const response = await fetch(`${baseUrl}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(events),
      });
      if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
      return (await response.json()).ids;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Resolves with the next value pushed to the queue, or rejects after a bounded wait. */
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
