/**
 * Writing the Tinker-protocol server's answers: JSON or protobuf bodies, and a refusal that
 * closes the connection without reading the rest of the request.
 */
import type http from "node:http";
import { forwardBackwardOutputToProto, sampleResponseToProto } from "./proto/convert";
import type { WireForwardBackwardOutput, WireSampleResponse } from "./wire";

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Answers without reading (the rest of) the body, then closes the connection once the answer is
 * out, so the unread bytes are neither buffered nor drained for a next request on the same socket.
 */
export function refuseUnread(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown): void {
  const socket = req.socket;
  req.pause();
  res.setHeader("Connection", "close");
  res.once("finish", () => socket?.destroySoon());
  send(res, status, body);
}

/**
 * A finished future's value as its protobuf message, for the two results the SDK reads that way;
 * null for every other answer (try_again, errors, the other operations), which stays JSON.
 */
export function resultAsProtobuf(answer: unknown): Uint8Array | null {
  if (answer === null || typeof answer !== "object") return null;
  const value = answer as Record<string, unknown>;
  if (value.type === "sample" && Array.isArray(value.sequences))
    return sampleResponseToProto(value as unknown as WireSampleResponse);
  if (Array.isArray(value.loss_fn_outputs) && !("type" in value))
    return forwardBackwardOutputToProto(value as unknown as WireForwardBackwardOutput);
  return null;
}

export function sendBytes(res: http.ServerResponse, bytes: Uint8Array, contentType: string): void {
  if (res.headersSent) return;
  res.writeHead(200, { "Content-Type": contentType, "Content-Length": bytes.length });
  res.end(bytes);
}

export function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
