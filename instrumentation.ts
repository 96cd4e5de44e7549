/**
 * Runs once when the server starts: creates the process's runtime (lib/runtime.ts: the database,
 * migrated before the first request, the training backend, the agent and auth), then finishes
 * what a previous process left running. Only in the Node.js runtime (PGlite and postgres-js
 * cannot run on the edge).
 *
 * A PGlite data directory another process holds ends the server here, with that process named:
 * serving on would answer every request with an error, and opening it anyway would corrupt it.
 */
export async function register(): Promise<void> {
  // A block, not an early return: the edge build drops the whole branch only in this form, and
  // otherwise warns about the Node.js APIs (process.exit, process.stderr) used below.
  if (process.env.NEXT_RUNTIME === "nodejs") {
    // First, so every request after start-up carries the address the sign-in rate limit trusts.
    const { stampClientAddresses } = await import("@/lib/auth/client-address");
    stampClientAddresses();
    const { getRuntime } = await import("@/lib/runtime");
    const { DataDirLockedError } = await import("@/lib/db/data-dir-lock");
    let agent: Awaited<ReturnType<typeof getRuntime>>["agent"];
    try {
      agent = (await getRuntime()).agent;
    } catch (error) {
      if (!(error instanceof DataDirLockedError)) throw error;
      process.stderr.write(`continualcode: ${error.message}\n`);
      process.exit(1);
    }
    await agent.recoverAll();
    // Other instances on the same PostgreSQL may die; their conversations and queues move here.
    agent.watchForOrphans();
  }
}
