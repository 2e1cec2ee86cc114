// The JavaScript a reader copies from the docs runs. Every js/javascript/mjs/ts block of the docs
// without a marker (<!-- snippet: … --> or <!-- fragment --> on the line before it) is a whole
// program: it runs here as an ES module in a child node, against a real hub on a real Redis, with
// the docs' addresses replaced by theirs. A snippet that listens passes when an event the test
// publishes to its scope shows in its output; one that completes must exit 0. The markers and the
// C# blocks are checked by tests/Atr.Hub.Tests/Docs/SnippetTests.cs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import { transform } from "esbuild";
import { root, startHub, startRedis } from "./support/hub.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The same files as Documentation.Files in the C# test. */
const files = [
  "README.md",
  ...readdirSync(path.join(root, "docs")).filter((name) => name.endsWith(".md")).sort().map((name) => `docs/${name}`),
  "Atr.Client.Js/README.md",
  "Atr.Publishing/README.md",
  "Atr.Publishing.EntityFrameworkCore/README.md",
  "Atr.Hub/README.md",
  "Atr.Server/README.md",
];

const javaScript = new Set(["js", "javascript", "mjs", "ts"]);

/** The fenced blocks of a markdown text: language, code, line of the opening fence, and the HTML comment right before it. */
export function codeBlocks(file, markdown) {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const before = i > 0 ? lines[i - 1].trim() : "";
    const code = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const trimmed = lines[j].trim();
      if (trimmed.length >= fence.length && [...trimmed].every((c) => c === fence[0])) break;
      code.push(lines[j].replace(new RegExp(`^ {0,${indent.length}}`), ""));
    }
    blocks.push({ file, line: i + 1, language: info.toLowerCase(), code: code.join("\n"), marker: before.startsWith("<!--") ? before : null });
    i = j;
  }
  return blocks;
}

const programs = files
  .flatMap((file) => codeBlocks(file, readFileSync(path.join(root, file), "utf8")))
  .filter((block) => javaScript.has(block.language) && block.marker === null);

/** The scopes a snippet listens to, as it writes them: /organization/1234, organization.1234.user.42, { organization: 1234 }. */
function scopesOf(code) {
  const scopes = new Set();
  for (const [, organization, user] of code.matchAll(/\borganization[./:]\s*(\d+)(?:[./]user[./](\d+))?/g)) {
    scopes.add(user ? `organization.${organization}.user.${user}` : `organization.${organization}`);
  }
  return scopes.size ? [...scopes] : [""];
}

let redis;
let hub;

before(async () => {
  redis = await startRedis();
  hub = await startHub(["--redis", redis.configuration]);
});

after(async () => {
  await hub?.stop();
  await redis?.stop();
});

async function stop(child, exited) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

async function run(block) {
  let code = block.code
    .replaceAll("http://127.0.0.1:7777", hub.baseUrl)
    .replaceAll("ws://127.0.0.1:7777", hub.wsUrl)
    .replaceAll("127.0.0.1:6379", redis.configuration);
  if (block.language === "ts") code = (await transform(code, { loader: "ts", format: "esm" })).code;

  // --eval resolves imports from the working directory: the root, whose node_modules links
  // @atr/client to this workspace and holds ws and @microsoft/signalr.
  const args = ["--input-type=module"];
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 22 && /\bnew WebSocket\(/.test(code) && !/from\s+["']ws["']/.test(code)) {
    args.push("--import", pathToFileURL(path.join(here, "support", "websocket-global.mjs")).href);
  }
  args.push("--eval", code);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });

  let output = "";
  let heard;
  const heardEvent = new Promise((resolve) => (heard = resolve));
  child.stdout.on("data", (chunk) => {
    output += chunk;
    if (output.includes("post.created")) heard();
  });
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));

  // A listener may not be listening yet when an event is published: publish again until it shows,
  // the snippet ends, or the bounded wait is over.
  const scopes = scopesOf(block.code);
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (Date.now() > deadline) assert.fail(`${block.file}:${block.line} neither showed post.created nor ended within 30 s:\n${output}`);
      await hub.publish(scopes.map((scope) => ({ scope, name: "post.created", record: { id: 7, title: "Hello" }, record_type: "Post" })));
      const outcome = await Promise.race([heardEvent.then(() => "heard"), exited, delay(250, "again")]);
      if (outcome === "heard") return;
      if (outcome !== "again") {
        assert.equal(outcome.code, 0, `${block.file}:${block.line} exited with ${outcome.code ?? outcome.signal}:\n${output}`);
        return;
      }
    }
  } finally {
    await stop(child, exited);
  }
}

test("the docs have JavaScript programs to run", () => {
  assert.ok(programs.length > 0, `no unmarked JavaScript block in ${files.join(", ")}`);
});

for (const block of programs) {
  test(`${block.file}:${block.line} runs`, () => run(block));
}
