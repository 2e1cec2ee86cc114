// Sends to the Socket.IO peer's rooms from another process with @socket.io/redis-emitter, as its
// documentation shows (socket.io/docs/v4/redis-emitter/).
//
//   REDIS_URL=redis://127.0.0.1:6379 node bench/peers/socketio/publisher.mjs
//
// Reads lines "<room>\t<payload>" from stdin and emits each, in order, as
// emitter.to(room).emit("event", payload) with the payload as a string. Prints "ready" once connected
// to Redis; exits once stdin is closed and every line read has been published.
import { createInterface } from "node:readline";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

const redisClient = createClient({ url: redisUrl });
redisClient.on("error", (error) => console.error(`redis: ${error.message}`));
await redisClient.connect();
const emitter = new Emitter(redisClient);
console.log("ready");

process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  const tab = line.indexOf("\t");
  if (tab <= 0) {
    console.error(`Skipped a line without '<room>\\t': ${line}`);
    continue;
  }
  // The emitter publishes without waiting for an answer; node-redis sends commands in call order.
  emitter.to(line.slice(0, tab)).emit("event", line.slice(tab + 1));
}

// QUIT is answered after every PUBLISH sent before it: once it resolves, all were published.
await redisClient.quit();
