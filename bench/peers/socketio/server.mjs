// Socket.IO 4 scaled out over Redis with @socket.io/redis-adapter and node-redis, as the adapter's
// documentation sets it up (socket.io/docs/v4/redis-adapter/): every option at its default.
// A client joins the room named by its ?room= query when it connects.
//
//   PORT=3000 REDIS_URL=redis://127.0.0.1:6379 node bench/peers/socketio/server.mjs
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";

const port = Number(process.env.PORT ?? 3000);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

const pubClient = createClient({ url: redisUrl });
const subClient = pubClient.duplicate();
// node-redis reconnects by itself; without a listener an "error" event would end the process.
pubClient.on("error", (error) => console.error(`redis: ${error.message}`));
subClient.on("error", (error) => console.error(`redis: ${error.message}`));
await Promise.all([pubClient.connect(), subClient.connect()]);

const httpServer = createServer();
const io = new Server(httpServer, { adapter: createAdapter(pubClient, subClient) });

io.on("connection", (socket) => {
  const room = socket.handshake.query.room;
  if (typeof room === "string" && room.length > 0) {
    socket.join(room);
  }
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${httpServer.address().port}`);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  // A client that never lets go must not keep the process alive.
  setTimeout(() => process.exit(0), 5000).unref();
  await io.close();
  await Promise.allSettled([pubClient.disconnect(), subClient.disconnect()]);
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
