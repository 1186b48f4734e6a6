// Size budget of the shipped script, and the committed dist/ being up to date.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { GZIP_BUDGET, OUTPUT, TYPES, sizes } from "../build.mjs";
import { minified } from "./harness.mjs";

test(`the minified tracker is at most ${GZIP_BUDGET} bytes gzipped (level 9)`, () => {
  const { raw, gzip, brotli } = sizes(minified);
  assert.ok(gzip <= GZIP_BUDGET, `gzip ${gzip} B > ${GZIP_BUDGET} B (raw ${raw} B, brotli ${brotli} B)`);
  assert.ok(brotli < gzip);
});

test("the budget check measures real gzip output", () => {
  // a guard against a size function that under-reports: random text does not compress
  const noise = Array.from({ length: 4000 }, () => String.fromCharCode(33 + Math.floor(Math.random() * 90))).join("");
  assert.ok(sizes(noise).gzip > GZIP_BUDGET);
});

test("dist/tracker.min.js is the build of src/tracker.js (run `npm run build`)", () => {
  const dist = readFileSync(OUTPUT, "utf8");
  assert.equal(dist, minified, "dist/tracker.min.js is stale: run `npm run build` and commit dist/");
  assert.ok(sizes(dist).gzip <= GZIP_BUDGET);
  assert.equal(readFileSync(new URL("../dist/tracker.d.ts", import.meta.url), "utf8"), readFileSync(TYPES, "utf8"));
});

test("the minified script is one self-contained expression without globals other than window.tracker", () => {
  assert.match(minified, /^\(\(\w,\w\)=>\{[\s\S]*\}\)\(window,document\);\n$/);
  assert.doesNotMatch(minified, /\bcookie\b/, "no cookies");
  assert.doesNotMatch(minified, /\beval\b|\bFunction\(/);
});
