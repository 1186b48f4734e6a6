// @vitest-environment node
// The generated API types must match docs/openapi.json: regenerate with `make frontend-api`
// (npm run gen:api) when this fails.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import openapiTS, { astToString } from "openapi-typescript";
import { expect, test } from "vitest";

test("src/lib/api-schema.d.ts is generated from the current docs/openapi.json", async () => {
  const spec = JSON.parse(readFileSync(fileURLToPath(new URL("../../../docs/openapi.json", import.meta.url)), "utf8"));
  const generated = astToString(await openapiTS(spec));
  const committed = readFileSync(fileURLToPath(new URL("./api-schema.d.ts", import.meta.url)), "utf8");
  const body = (text: string) => text.replace(/^\/\*\*[\s\S]*?\*\/\s*/, "").trim(); // the CLI's banner aside
  expect(body(committed), "stale: run `make frontend-api`").toBe(body(generated));
});
