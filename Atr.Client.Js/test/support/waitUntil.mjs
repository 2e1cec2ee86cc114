// Polling for a state the test cannot await: every turn of the event loop by default (the fake
// WebSocket's world moves only when the test acts), or at an interval when real processes answer.

/** Resolves once `condition()` holds; rejects with `message()` after `timeoutMs`. */
export async function waitUntil(condition, { timeoutMs = 5_000, intervalMs = 0, message = () => "condition not met in time" } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((resolve) => (intervalMs ? setTimeout(resolve, intervalMs) : setImmediate(resolve)));
  }
}
