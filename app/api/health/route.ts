/**
 * GET /api/health: public liveness and database check for load balancers and the e2e server's
 * readiness probe. Says nothing about users; 503 while the database cannot answer.
 */
import { sql } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { log } from "@/lib/log";
import { describeBackend } from "@/lib/training";
import pkg from "@/package.json";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  let database: "ok" | "error" = "ok";
  try {
    await (await getDb()).execute(sql`select 1`);
  } catch (err) {
    database = "error";
    log.error("health.database_unreachable", { error: err });
  }
  // The backend's detail (paths, URLs) stays in the server log: this endpoint needs no sign-in.
  const backend = await describeBackend().catch((err: unknown) => ({
    kind: "unknown",
    reachable: false,
    detail: String(err),
  }));
  if (!backend.reachable) log.warn("health.backend_unreachable", { backend });
  const status = database === "ok" ? "ok" : "degraded";
  return Response.json(
    { status, database, backend: { kind: backend.kind, reachable: backend.reachable }, version: pkg.version },
    { status: database === "ok" ? 200 : 503 },
  );
}
