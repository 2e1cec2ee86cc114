// Builds ESM, CommonJS, .d.ts and the single-file browser bundles (script tag and ES module).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
rmSync("dist", { recursive: true, force: true });

const common = { entryPoints: ["src/index.ts"], bundle: true, target: "es2020", sourcemap: true, external: ["@microsoft/signalr"] };
await Promise.all([
  build({ ...common, format: "esm", platform: "neutral", outfile: "dist/esm/index.js" }),
  build({ ...common, format: "cjs", platform: "node", outfile: "dist/cjs/index.cjs" }),
  // <script src="atr-client.js"> defines the global `Atr`; SignalR, if used, comes from the global `signalR`.
  build({ ...common, format: "iife", globalName: "Atr", platform: "browser", outfile: "dist/browser/atr-client.js", minify: true }),
  build({ ...common, format: "esm", platform: "browser", outfile: "dist/browser/atr-client.mjs", minify: true }),
]);

execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.json"], { stdio: "inherit" });

// The package is "type": "module", so every .d.ts is an ES module to TypeScript, which a `require`
// (module node16/nodenext) may not load: each gets a CommonJS twin, .d.cts, whose relative imports
// name the twins (./types.js → ./types.cjs, which TypeScript resolves to types.d.cts).
for (const file of readdirSync("dist/types").filter((name) => name.endsWith(".d.ts"))) {
  const source = readFileSync(`dist/types/${file}`, "utf8");
  writeFileSync(`dist/types/${file.replace(/\.d\.ts$/, ".d.cts")}`, source.replace(/(["'])(\.{1,2}\/[^"']+)\.js\1/g, "$1$2.cjs$1"));
}
console.log("built dist/esm, dist/cjs, dist/types, dist/browser");
