/**
 * drizzle-kit configuration: `npm run db:generate` diffs lib/db/schema.ts against the snapshots in
 * drizzle/ and writes the next SQL migration there. Generation needs no database; the app applies
 * the migrations itself at first use (lib/db/client.ts), on PGlite and PostgreSQL alike.
 *
 * Ids are text with no database default: better-auth generates the ids of its tables (user,
 * session, account, verification), and ours come from `$defaultFn(crypto.randomUUID)` in the
 * schema. So a row inserted by hand in SQL must bring its own id.
 */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./lib/db/schema.ts",
  out: "./drizzle",
});
