// First-load JavaScript of the dashboard's pages, gzipped: every script the exported HTML loads
// before anything else (docs/benchmarks.md; budget 250 KB for the project dashboard).
//   node scripts/first-load-size.mjs [--json]     (after `next build`)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";

const OUT = new URL("../out/", import.meta.url).pathname;
const PAGES = { "/projects/view/": "projects/view/index.html", "/projects/": "projects/index.html", "/login/": "login/index.html" };
const BUDGET_KB = 250;

function scriptsOf(html) {
  const found = new Set();
  // modern browsers skip the noModule polyfills
  for (const match of html.matchAll(/<script([^>]*)\ssrc="([^"]+\.js)"([^>]*)>/g))
    if (!/nomodule/i.test(match[1] + match[3])) found.add(match[2]);
  return [...found];
}

const report = {};
for (const [route, file] of Object.entries(PAGES)) {
  const scripts = scriptsOf(readFileSync(join(OUT, file), "utf8"));
  let raw = 0;
  let gzip = 0;
  let brotli = 0;
  for (const src of scripts) {
    const body = readFileSync(join(OUT, src.replace(/^\//, "")));
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
    brotli += brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  }
  report[route] = { scripts: scripts.length, raw_kb: +(raw / 1024).toFixed(1), gzip_kb: +(gzip / 1024).toFixed(1), brotli_kb: +(brotli / 1024).toFixed(1) };
}

if (process.argv.includes("--json")) console.log(JSON.stringify(report, null, 2));
else {
  console.log("first-load JS   scripts      raw     gzip   brotli");
  for (const [route, r] of Object.entries(report))
    console.log(`${route.padEnd(16)}${String(r.scripts).padStart(7)}${(r.raw_kb + " KB").padStart(10)}${(r.gzip_kb + " KB").padStart(9)}${(r.brotli_kb + " KB").padStart(9)}`);
}
const dashboard = report["/projects/view/"].gzip_kb;
if (dashboard > BUDGET_KB) {
  console.error(`over budget: the dashboard's first-load JS is ${dashboard} KB gzipped (budget ${BUDGET_KB} KB)`);
  process.exit(1);
}
