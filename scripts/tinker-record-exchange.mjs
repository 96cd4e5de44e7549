// Records what a Tinker client and server say to each other: a proxy on --listen that forwards to
// --target and writes every request and answer (method, path, content type, status, body: JSON as
// JSON, anything else as base64) to --out when it is stopped (SIGINT/SIGTERM). Used once to capture
// the official SDK against `trainer serve` (lib/training/tinker/fixtures/sdk-0.25.0-exchange.json).
//
//   node scripts/tinker-record-exchange.mjs --listen 8793 --target http://127.0.0.1:8792 --out x.json
import fs from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    listen: { type: "string" },
    target: { type: "string" },
    out: { type: "string" },
    note: { type: "string" },
  },
});
const exchanges = [];

const decode = (contentType, bytes) => {
  if (bytes.length === 0) return { body: null };
  if ((contentType ?? "").startsWith("application/json")) {
    try {
      return { body: JSON.parse(bytes.toString("utf8")) };
    } catch {
      return { text: bytes.toString("utf8") }; // e.g. Python's NaN, which JSON cannot hold
    }
  }
  return { base64: bytes.toString("base64") };
};

const read = async (stream) => {
  const parts = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
};

http
  .createServer(async (req, res) => {
    const sent = await read(req);
    const upstream = http.request(
      `${values.target}${req.url}`,
      { method: req.method, headers: req.headers },
      async (answer) => {
        const got = await read(answer);
        exchanges.push({
          method: req.method,
          path: req.url,
          request: {
            contentType: req.headers["content-type"] ?? null,
            accept: req.headers.accept ?? null,
            ...decode(req.headers["content-type"], sent),
          },
          response: {
            status: answer.statusCode,
            contentType: answer.headers["content-type"] ?? null,
            ...decode(answer.headers["content-type"], got),
          },
        });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.end(got);
      },
    );
    upstream.on("error", () => res.destroy());
    upstream.end(sent);
  })
  .listen(Number(values.listen), "127.0.0.1");

const stop = () => {
  fs.writeFileSync(values.out, `${JSON.stringify({ note: values.note ?? "", exchanges }, null, 1)}\n`);
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
