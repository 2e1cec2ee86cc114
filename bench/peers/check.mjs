// End-to-end check of the benchmark's peer servers, with the wire contract the load tool relies on.
//
//   node bench/peers/check.mjs [--events N] [signalr-redis] [socketio] [ws]   (all three by default)
//
// Starts a redis-server on a free loopback port; then, for each peer, its server on a free port,
// its publisher (for ws, this script publishes to Redis itself, as the load tool does) and one raw
// WebSocket client speaking the peer's protocol by hand. It publishes 100 events (--events N)
// through the peer's publishing path, checks that each arrives exactly once and in order, stops the
// publisher by closing its stdin and the server with SIGTERM, and prints a summary. It exits
// non-zero on any problem and kills everything it started on every exit path. The SignalR peer must
// be built first: dotnet build bench/peers/signalr-redis -c Release
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { WebSocket } from "ws";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const eventsFlag = args.indexOf("--events");
const events = eventsFlag >= 0 ? Number(args.splice(eventsFlag, 2)[1]) : 100;
if (!Number.isInteger(events) || events < 1) {
  console.error("check: --events takes a positive whole number");
  process.exit(2);
}
const overallTimeoutMs = 180_000; // the whole run, builds excluded; a stuck step fails long before
const stepTimeoutMs = 30_000; // one step: a process starting, a client connecting, events arriving
const quietMs = 500; // after the last expected event: how long a duplicate has to show up

const children = new Set();

function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    console.error(`check: ${signal}, stopping`);
    process.exit(1);
  });
}
setTimeout(() => {
  console.error(`check: not done after ${overallTimeoutMs / 1000} s`);
  process.exit(1);
}, overallTimeoutMs).unref();

/** Rejects after `ms` unless `promise` settles first. */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a process whose stdout is read line by line. `waitFor(pattern)` resolves with the match of
 * the first stdout line matching it; the stderr tail is kept for error messages.
 */
function start(name, command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  const lines = [];
  const waiters = [];
  let stderr = "";
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    // It could not be started at all (not installed, not executable).
    child.once("error", (error) => {
      stderr += `\n${error.message}`;
      resolve({ code: null, signal: error.code });
    });
  });
  child.stdin.on("error", () => {}); // a process that died before reading: reported by its exit
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(line);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  });
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const describe = () => `${name} (${[command, ...args].join(" ")})\n--- stderr tail ---\n${stderr.trim()}`;
  return {
    child,
    exited,
    describe,
    waitFor(pattern) {
      const seen = lines.map((line) => pattern.exec(line)).find(Boolean);
      if (seen) return Promise.resolve(seen);
      const waited = new Promise((resolve) => waiters.push({ pattern, resolve }));
      const died = exited.then(({ code, signal }) => {
        throw new Error(`${name} exited (${signal ?? code}) before printing ${pattern}\n${describe()}`);
      });
      return within(stepTimeoutMs, `${name} waiting for ${pattern}`, Promise.race([waited, died]));
    },
    /** SIGTERM, then the exit; SIGKILL if it does not come. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill("SIGTERM");
      try {
        return await within(stepTimeoutMs, `${name} stopping on SIGTERM`, exited);
      } finally {
        child.kill("SIGKILL");
      }
    },
  };
}

async function startRedis() {
  let last;
  // A free port can be taken between choosing and binding it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const redis = start("redis-server", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    try {
      await redis.waitFor(/Ready to accept connections/);
      return { ...redis, port };
    } catch (error) {
      last = error;
      redis.child.kill("SIGKILL");
    }
  }
  throw last;
}

/**
 * A raw WebSocket client. `onText(text, socket)` sees every text message and returns the event
 * payloads (strings) it carried; it throws on a protocol error. `ready` resolves once the client
 * listens: when `isReady(text)` first returns true, or at the open when `isReady` is "open".
 */
function connect(url, { onOpen = () => {}, onText, isReady }) {
  const socket = new WebSocket(url);
  const payloads = [];
  let failure = null;
  let notify = () => {};
  let markReady;
  let failReady;
  const ready = new Promise((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  const fail = (error) => {
    failure ??= error;
    failReady(error);
    notify();
  };
  socket.on("open", () => {
    if (isReady === "open") markReady();
    onOpen(socket);
  });
  socket.on("message", (data, isBinary) => {
    if (isBinary) return fail(new Error(`${url}: unexpected binary message`));
    const text = data.toString();
    try {
      if (isReady !== "open" && isReady(text)) markReady();
      payloads.push(...onText(text, socket));
    } catch (error) {
      fail(error);
    }
    notify();
  });
  socket.on("error", fail);
  socket.on("close", (code) => failReady(new Error(`${url}: closed (${code}) before it was ready`)));
  return {
    socket,
    ready: within(stepTimeoutMs, `client ${url} getting ready`, ready),
    payloads,
    /** Resolves once `count` payloads arrived. */
    received(count) {
      return within(
        stepTimeoutMs,
        `client ${url} waiting for ${count} events (has ${payloads.length})`,
        new Promise((resolve, reject) => {
          notify = () => (failure ? reject(failure) : payloads.length >= count && resolve());
          notify();
        }),
      );
    },
  };
}

const recordSeparator = "\x1e";

/** SignalR JSON hub protocol over a raw WebSocket, without negotiate. */
function signalRClient(url, group) {
  let handshakeDone = false;
  return connect(url, {
    onOpen: (socket) => socket.send(`{"protocol":"json","version":1}${recordSeparator}`),
    isReady: (text) => text.split(recordSeparator).some((message) => message.startsWith('{"type":3,"invocationId":"join"')),
    onText(text, socket) {
      const found = [];
      for (const message of text.split(recordSeparator).filter(Boolean)) {
        const parsed = JSON.parse(message);
        if (!handshakeDone) {
          if (parsed.error) throw new Error(`SignalR handshake refused: ${parsed.error}`);
          handshakeDone = true;
          // The handshake answer comes before OnConnectedAsync has joined ?group=; invocations are
          // answered only after it, so a completed Join means the group is joined.
          socket.send(`{"type":1,"invocationId":"join","target":"Join","arguments":[${JSON.stringify(group)}]}${recordSeparator}`);
        } else if (parsed.type === 1 && parsed.target === "event") {
          found.push(parsed.arguments[0]);
        } else if (parsed.type === 3 && parsed.error) {
          throw new Error(`SignalR invocation failed: ${parsed.error}`);
        }
      }
      return found;
    },
  });
}

/** Engine.IO v4 / Socket.IO v5 protocol over a raw WebSocket (websocket transport only). */
function socketIoClient(url) {
  return connect(url, {
    // "40" is the CONNECT reply of the main namespace: the connection handler, which joins the
    // room, runs in the same turn as it is sent.
    isReady: (text) => text.startsWith("40"),
    onText(text, socket) {
      if (text.startsWith("0")) socket.send("40");
      else if (text === "2") socket.send("3");
      else if (text.startsWith("42")) {
        const [name, payload] = JSON.parse(text.slice(2));
        if (name === "event") return [payload];
      } else if (text.startsWith("44")) throw new Error(`Socket.IO connect refused: ${text}`);
      return [];
    },
  });
}

/** Atr's raw protocol: each text frame is one event; the server subscribed before the upgrade. */
function rawClient(url) {
  return connect(url, { isReady: "open", onText: (text) => [text] });
}

function payload(peer, seq) {
  return JSON.stringify({ name: "bench.check", scope: "organization.12", peer, seq, pad: "x".repeat(40) });
}

/** Each of 1..count exactly once, in order. */
function verify(received, count) {
  const seqs = received.map((text) => JSON.parse(text).seq);
  const problems = [];
  const seen = new Set();
  let duplicates = 0;
  for (const seq of seqs) {
    if (seen.has(seq)) duplicates++;
    seen.add(seq);
  }
  const missing = [];
  for (let seq = 1; seq <= count; seq++) if (!seen.has(seq)) missing.push(seq);
  const inOrder = seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]);
  if (missing.length) problems.push(`missing ${missing.length} (first ${missing.slice(0, 5).join(", ")})`);
  if (duplicates) problems.push(`${duplicates} duplicated`);
  if (!inOrder) problems.push("out of order");
  return { received: seqs.length, missing: missing.length, duplicates, inOrder, problems };
}

/** A publisher process: lines "<group>\t<payload>" on stdin, "ready" on stdout. */
async function runPublisher(publisher, target, payloads) {
  await publisher.waitFor(/^ready$/);
  for (const text of payloads) publisher.child.stdin.write(`${target}\t${text}\n`);
  publisher.child.stdin.end();
  const { code, signal } = await within(stepTimeoutMs, "publisher exiting after stdin closed", publisher.exited);
  if (code !== 0) throw new Error(`publisher exited (${signal ?? code}) after stdin closed\n${publisher.describe()}`);
}

const peers = {
  "signalr-redis": async (redis) => {
    const bin = join(here, "signalr-redis");
    const serverDll = join(bin, "SignalRPeer.Server/bin/Release/net10.0/SignalRPeer.Server.dll");
    const publisherDll = join(bin, "SignalRPeer.Publisher/bin/Release/net10.0/SignalRPeer.Publisher.dll");
    for (const dll of [serverDll, publisherDll]) {
      if (!existsSync(dll)) throw new Error(`${dll} is missing: dotnet build bench/peers/signalr-redis -c Release`);
    }
    const port = await freePort();
    const server = start("signalr-redis server", "dotnet", [serverDll, "--urls", `http://127.0.0.1:${port}`, "--redis", `127.0.0.1:${redis.port}`]);
    const publisher = start("signalr-redis publisher", "dotnet", [publisherDll, "--redis", `127.0.0.1:${redis.port}`]);
    return {
      server,
      publisher,
      client: async () => signalRClient(`ws://127.0.0.1:${port}/hub?group=g12`, "g12"),
      publish: (payloads) => runPublisher(publisher, "g12", payloads),
    };
  },
  socketio: async (redis) => {
    const port = await freePort();
    const env = { PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redis.port}` };
    const server = start("socketio server", process.execPath, [join(here, "socketio/server.mjs")], env);
    const publisher = start("socketio publisher", process.execPath, [join(here, "socketio/publisher.mjs")], env);
    return {
      server,
      publisher,
      client: async () => socketIoClient(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&room=r12`),
      publish: (payloads) => runPublisher(publisher, "r12", payloads),
    };
  },
  ws: async (redis) => {
    const port = await freePort();
    const env = { PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redis.port}` };
    const server = start("ws server", process.execPath, [join(here, "ws/server.mjs")], env);
    return {
      server,
      publisher: null,
      client: async () => rawClient(`ws://127.0.0.1:${port}/organization/12`),
      // As the load tool does for Atr and this peer: PUBLISH atr:<scope> <payload>, in order.
      publish: async (payloads) => {
        const redisClient = createClient({ url: `redis://127.0.0.1:${redis.port}` });
        redisClient.on("error", () => {});
        await redisClient.connect();
        try {
          await Promise.all(payloads.map((text) => redisClient.publish("atr:organization.12", text)));
        } finally {
          await redisClient.quit();
        }
      },
    };
  },
};

async function checkPeer(name, redis) {
  const started = performance.now();
  let peer;
  try {
    peer = await peers[name](redis);
  } catch (error) {
    return { ...verify([], events), peer: name, listening: "", stop: "not started", ms: 0, total: 0, problems: [error.message] };
  }
  const row = { peer: name, listening: "", stop: "", ms: 0 };
  const problems = [];
  let client = null;
  try {
    const [, url] = await peer.server.waitFor(/^listening on (\S+)$/);
    row.listening = url;
    client = await peer.client();
    await client.ready;
    const sentAt = performance.now();
    await peer.publish(Array.from({ length: events }, (_, i) => payload(name, i + 1)));
    await client.received(events);
    row.ms = Math.round(performance.now() - sentAt);
    // Anything more (a duplicate) has a moment to show up; ordered delivery would also put it
    // before the last event, where the order check sees it.
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  } catch (error) {
    problems.push(error.message.split("\n")[0]);
    console.error(`check: ${name}: ${error.message}`);
  }
  Object.assign(row, verify(client?.payloads ?? [], events));
  row.problems.unshift(...problems);
  client?.socket.close();

  if (peer.publisher) await peer.publisher.stop().catch(() => {});
  try {
    const { code, signal } = await peer.server.stop();
    row.stop = signal ?? `exit ${code}`;
    if (code !== 0) row.problems.push(`server did not exit cleanly on SIGTERM (${row.stop})`);
  } catch (error) {
    row.stop = "killed";
    row.problems.push(error.message.split("\n")[0]);
  }
  row.total = Math.round(performance.now() - started);
  return row;
}

const chosen = args.length ? args : Object.keys(peers);
for (const name of chosen) {
  if (!(name in peers)) {
    console.error(`check: unknown peer ${name}; one of ${Object.keys(peers).join(", ")}`);
    process.exit(2);
  }
}

let failed = 0;
const redis = await startRedis().catch((error) => {
  console.error(`check: ${error.message}`);
  process.exit(1);
});
try {
  console.log(`redis-server on 127.0.0.1:${redis.port}; ${events} events per peer`);
  for (const name of chosen) {
    const row = await checkPeer(name, redis);
    if (row.problems.length) failed++;
    console.log(
      `${row.problems.length ? "FAIL" : "ok  "} ${row.peer.padEnd(14)} ${row.listening.padEnd(24)} ` +
        `received ${row.received}/${events}, missing ${row.missing}, duplicated ${row.duplicates}, ` +
        `in order ${row.inOrder ? "yes" : "no"}, delivered in ${row.ms} ms, SIGTERM -> ${row.stop}, ` +
        `${(row.total / 1000).toFixed(1)} s` +
        (row.problems.length ? `\n     ${row.problems.join("; ")}` : ""),
    );
  }
} finally {
  await redis.stop().catch(() => {});
}

console.log(`${chosen.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
