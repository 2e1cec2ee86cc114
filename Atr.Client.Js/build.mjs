// Builds ESM, CommonJS, .d.ts and the single-file browser bundles (script tag and ES module).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
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
console.log("built dist/esm, dist/cjs, dist/types, dist/browser");
