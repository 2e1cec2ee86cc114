// Preloaded (node --import) for a browser-style docs snippet that uses the global WebSocket, which
// Node has only from 22 on: there, the ws package stands in for the browser's.
import WebSocket from "ws";

globalThis.WebSocket ??= WebSocket;
