// A stand-alone server for the demo page, for working on the SDK without the Pulse platform
// (the platform serves the demo itself). No dependencies:
//
//   node demo/dev-server.mjs                  http://localhost:8080/demo/
//   PORT=3000 PULSE_PROJECT_KEY=proj_abc node demo/dev-server.mjs
//
// Serves demo/index.html at /demo/ (and /demo/pricing) with __PROJECT_KEY__ replaced,
// sdk/dist/tracker.min.js at /sdk/tracker.min.js, and a fake ingest endpoint at
// /api/v1/events/ingest that prints each batch and answers 202 like the real one.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const INGEST = "/api/v1/events/ingest";

export function createDemoServer({ projectKey = process.env.PULSE_PROJECT_KEY, log = console.log } = {}) {
  return createServer(async (request, response) => {
    const { pathname } = new URL(request.url, "http://localhost");
    try {
      if (pathname === INGEST && request.method === "OPTIONS") {
        response.writeHead(204, { "access-control-allow-origin": "*", "access-control-allow-methods": "POST" });
        return response.end();
      }
      if (pathname === INGEST && request.method === "POST") {
        let body = "";
        for await (const chunk of request) body += chunk;
        const batch = JSON.parse(body);
        for (const event of batch.events) log(`${batch.api_key} ${event.event} ${event.distinct_id} ${JSON.stringify(event.properties)}`);
        response.writeHead(202, { "content-type": "application/json", "access-control-allow-origin": "*" });
        return response.end(JSON.stringify({ accepted: batch.events.length, rejected: [] }));
      }
      if (pathname === "/sdk/tracker.min.js") {
        response.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" });
        return response.end(await readFile(file("../sdk/dist/tracker.min.js")));
      }
      if (pathname === "/" || pathname === "/demo") {
        response.writeHead(302, { location: "/demo/" });
        return response.end();
      }
      if (pathname === "/demo/" || pathname === "/demo/pricing") {
        let html = await readFile(file("index.html"), "utf8");
        if (projectKey) html = html.replaceAll("__PROJECT_KEY__", projectKey);
        response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" });
        return response.end(html);
      }
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("not found\n");
    } catch (error) {
      response.writeHead(400, { "content-type": "text/plain" });
      response.end(`${error.message}\n`);
    }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT) || 8080;
  createDemoServer().listen(port, () => {
    console.log(`Pulse demo on http://localhost:${port}/demo/?key=proj_demo (ingest requests are printed here)`);
  });
}
