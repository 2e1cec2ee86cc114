// The lean baseline: a minimal `ws` server fed by Redis pub/sub, doing only what Atr's raw endpoint
// does at its core. A client of /organization/12 listens to the scope organization.12; the first
// client of a scope subscribes the Redis channel atr:<scope> (Atr's channel naming), every message
// of it goes to each open client of the scope as one text frame, and the last client to leave
// unsubscribes. No authentication, keep-alive pings or send-queue limits.
//
//   PORT=8080 REDIS_URL=redis://127.0.0.1:6379 node bench/peers/ws/server.mjs
import { createServer } from "node:http";
import { createClient } from "redis";
import { WebSocket, WebSocketServer } from "ws";

const port = Number(process.env.PORT ?? 8080);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const channelPrefix = "atr:";
const segment = /^[A-Za-z0-9_-]{1,64}$/;

const subscriber = createClient({ url: redisUrl });
subscriber.on("error", (error) => console.error(`redis: ${error.message}`));
await subscriber.connect();

/** scope -> { members: clients open or being admitted, clients: open sockets, listener, subscribed } */
const scopes = new Map();

/** `/organization/12` -> `organization.12`, `/` -> `` (unscoped); null when malformed. */
function scopeOf(url) {
  const path = url.split("?", 1)[0];
  if (path === "/") return "";
  const parts = path.slice(1).split("/");
  if (parts.length % 2 !== 0 || parts.length > 16 || !parts.every((part) => segment.test(part))) return null;
  return parts.join(".");
}

function join(scope) {
  let entry = scopes.get(scope);
  if (entry === undefined) {
    const clients = new Set();
    // Buffers straight from Redis: each message is sent as is, with no conversion per client.
    const listener = (message) => {
      for (const client of clients) {
        if (client.readyState === WebSocket.OPEN) client.send(message, { binary: false });
      }
    };
    entry = { members: 0, clients, listener, subscribed: subscriber.subscribe(channelPrefix + scope, listener, true) };
    scopes.set(scope, entry);
  }
  entry.members++;
  return entry;
}

function leave(scope, entry) {
  if (--entry.members > 0) return;
  scopes.delete(scope);
  subscriber.unsubscribe(channelPrefix + scope, entry.listener, true).catch((error) => console.error(`unsubscribe ${scope}: ${error.message}`));
}

const wss = new WebSocketServer({ noServer: true });
const server = createServer((request, response) => {
  response.writeHead(426, { "content-type": "text/plain" }).end("Connect with a WebSocket to /<type>/<id>.\n");
});

server.on("upgrade", async (request, socket, head) => {
  socket.on("error", () => {});
  const scope = scopeOf(request.url ?? "");
  if (scope === null) {
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    return;
  }

  // The upgrade completes only once the channel is subscribed, as Atr's does: a client that sees
  // the connection open misses nothing published afterwards.
  const entry = join(scope);
  try {
    await entry.subscribed;
  } catch (error) {
    console.error(`subscribe ${scope}: ${error.message}`);
    leave(scope, entry);
    socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
    return;
  }
  if (socket.destroyed || !socket.writable) {
    leave(scope, entry);
    return;
  }

  wss.handleUpgrade(request, socket, head, (client) => {
    entry.clients.add(client);
    client.on("error", () => {});
    client.on("close", () => {
      entry.clients.delete(client);
      leave(scope, entry);
    });
  });
});

server.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 5000).unref();
  server.close();
  for (const client of wss.clients) client.close(1001, "server shutting down");
  await subscriber.disconnect().catch(() => {});
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
