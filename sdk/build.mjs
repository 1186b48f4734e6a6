// Minifies src/tracker.js into dist/tracker.min.js, copies the type definitions next to it and
// prints the size report. Exits with status 1 when the gzipped script exceeds the budget.
//
//   node build.mjs           build and report
//   import { minify } from "./build.mjs"   the minified code as a string, nothing written
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { minify as terser } from "terser";

export const GZIP_BUDGET = 1500;
const root = (path) => fileURLToPath(new URL(path, import.meta.url));
export const SOURCE = root("src/tracker.js");
export const TYPES = root("src/tracker.d.ts");
export const OUTPUT = root("dist/tracker.min.js");

export async function minify(source) {
  source ??= await readFile(SOURCE, "utf8");
  const result = await terser(source, {
    ecma: 2020,
    toplevel: true,
    compress: { passes: 3, unsafe_arrows: true, unsafe_methods: true },
    mangle: true,
    format: { comments: false },
  });
  return result.code + "\n";
}

// gzip counts like `gzip -9 -c dist/tracker.min.js | wc -c`: the gzip header of the command line
// tool stores the file name ("tracker.min.js" and a NUL byte), zlib's gzipSync does not.
const GZIP_NAME_BYTES = "tracker.min.js".length + 1;

export function sizes(code) {
  const buffer = Buffer.from(code);
  return {
    raw: buffer.length,
    gzip: gzipSync(buffer, { level: 9 }).length + GZIP_NAME_BYTES,
    brotli: brotliCompressSync(buffer, {
      params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY },
    }).length,
  };
}

export async function build() {
  const code = await minify();
  await mkdir(root("dist"), { recursive: true });
  await writeFile(OUTPUT, code);
  await copyFile(TYPES, root("dist/tracker.d.ts"));
  return sizes(code);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { raw, gzip, brotli } = await build();
  console.log(`dist/tracker.min.js  raw ${raw} B  gzip -9 ${gzip} B  brotli ${brotli} B`);
  if (gzip > GZIP_BUDGET) {
    console.error(`gzip size ${gzip} B is over the ${GZIP_BUDGET} B budget`);
    process.exit(1);
  }
}
