/**
 * Runs once when the server starts: open the database and apply pending migrations before the
 * first request, so a fresh data directory or a new release is ready without a separate step.
 * Only in the Node.js runtime (PGlite and postgres-js cannot run on the edge).
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getDb } = await import("@/lib/db/client");
  await getDb();
  const { recoverAll } = await import("@/lib/agent");
  await recoverAll();
}
