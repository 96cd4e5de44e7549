/**
 * GET /api/health: public liveness and database check for load balancers and the e2e server's
 * readiness probe. Says nothing about users; 503 while the database cannot answer.
 */
import { sql } from "drizzle-orm";
import { log } from "@/lib/log";
import { getRuntime, type Runtime } from "@/lib/runtime";
import pkg from "@/package.json";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  let database: "ok" | "error" = "ok";
  let runtime: Runtime | null = null;
  try {
    runtime = await getRuntime();
    await runtime.db.execute(sql`select 1`);
  } catch (err) {
    database = "error";
    log.error("health.database_unreachable", { error: err });
  }
  // The backend's detail (paths, URLs) stays in the server log: this endpoint needs no sign-in.
  // The process's own backend, so a started engine that stopped answering shows here.
  const probe = runtime ? runtime.describeBackend() : Promise.reject(new Error("the process runtime did not start"));
  const backend = await probe.catch((err: unknown) => ({
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
