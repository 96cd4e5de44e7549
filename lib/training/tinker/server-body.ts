/**
 * Request bodies as the Tinker SDK sends them. forward_backward (and, since SDK 0.25, forward as
 * forward_backward with `forward_only`) comes as a protobuf ForwardBackwardRequest with
 * `Content-Type: application/x-protobuf`; everything else, and forward_backward from SDK 0.24 and
 * our JSON fallback, comes as JSON. Python's json module writes a NaN or infinite float as the
 * bare words NaN / Infinity / -Infinity, which JSON.parse refuses; they are read back as those
 * numbers, so a non-finite loss input reaches the check that names it instead of failing as
 * "invalid JSON".
 */
import { randomBytes } from "node:crypto";
import type http from "node:http";
import { forwardBackwardBodyFromProto } from "./proto/convert";
import { HttpError } from "./server-state";

export const PROTOBUF_CONTENT_TYPE = "application/x-protobuf";

/** Paths whose body may be a protobuf message, and which message it is. */
const PROTO_BODIES: Record<string, (bytes: Uint8Array) => unknown> = {
  "/api/v1/forward_backward": forwardBackwardBodyFromProto,
};

const mediaType = (header: string | undefined) => (header ?? "").split(";")[0]!.trim().toLowerCase();

/** True when an Accept header lists protobuf (the SDK asks for it on sample and forward_backward results). */
export function acceptsProtobuf(accept: string | undefined): boolean {
  return (accept ?? "").split(",").some((part) => mediaType(part) === PROTOBUF_CONTENT_TYPE);
}

export function decodeBody(
  path: string,
  bytes: Buffer,
  contentType: string | undefined,
  contentEncoding: string | undefined,
  protobuf = true,
): unknown {
  const encoding = (contentEncoding ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "") {
    // The SDK compresses only when client/config sets proto_compress_fwdbwd, which this server leaves off.
    throw new HttpError(415, `Content-Encoding ${encoding} is not supported; send the body uncompressed`);
  }
  if (mediaType(contentType) === PROTOBUF_CONTENT_TYPE) {
    const decode = protobuf ? PROTO_BODIES[path] : undefined;
    if (!decode) throw new HttpError(415, `${path} takes JSON, not ${PROTOBUF_CONTENT_TYPE}`);
    try {
      return decode(bytes);
    } catch (error) {
      throw new HttpError(
        400,
        `invalid protobuf body for ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const text = bytes.toString("utf8");
  return text.length === 0 ? {} : parseJsonWithNonFinite(text);
}

/**
 * JSON.parse, also reading Python's NaN, Infinity and -Infinity outside strings. Plain JSON takes
 * the fast path; only a body JSON.parse refuses is scanned, and a body that is still not JSON
 * after the rewrite throws the original SyntaxError.
 */
export function parseJsonWithNonFinite(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const rewritten = rewriteNonFinite(text);
    if (rewritten === null) throw error;
    try {
      return JSON.parse(rewritten.text, (_key, value: unknown) =>
        typeof value === "string" && value.startsWith(rewritten.marker)
          ? Number(value.slice(rewritten.marker.length))
          : value,
      );
    } catch {
      throw error;
    }
  }
}

const NON_FINITE = ["-Infinity", "Infinity", "NaN"] as const;

/** Replaces each bare non-finite word with a marked string the reviver turns back into the number. */
function rewriteNonFinite(text: string): { text: string; marker: string } | null {
  // A per-body random marker: no string a client sent can be mistaken for one.
  const marker = `\u0000nonfinite-${randomBytes(8).toString("hex")}:`;
  const markerJson = JSON.stringify(marker).slice(1, -1);
  let out = "";
  let from = 0;
  let inString = false;
  let found = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c !== "N" && c !== "I" && c !== "-") continue;
    const word = NON_FINITE.find((w) => text.startsWith(w, i));
    if (!word) continue;
    out += `${text.slice(from, i)}"${markerJson}${word}"`;
    i += word.length - 1;
    from = i + 1;
    found = true;
  }
  return found ? { text: out + text.slice(from), marker } : null;
}

export function tooLarge(maxBytes: number): string {
  return `request body over ${maxBytes} bytes (trainer serve --max-body-mib raises the limit)`;
}

/** The body's bytes; past `maxBytes` it stops reading (leaving the socket to refuseUnread) and throws 413. */
export function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (part: Buffer) => {
      size += part.length;
      if (size <= maxBytes) return void parts.push(part);
      req.off("data", onData);
      reject(new HttpError(413, tooLarge(maxBytes)));
    };
    req.on("data", onData);
    req.once("error", reject);
    req.once("end", () => {
      if (size <= maxBytes) resolve(Buffer.concat(parts));
    });
  });
}
