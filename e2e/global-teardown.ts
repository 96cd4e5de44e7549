// Removes the run's data directory (PGlite database and workspaces) once every spec is done.
import fs from "node:fs";

export default function globalTeardown(): void {
  const dir = process.env.E2E_DATA_DIR;
  if (dir?.includes("cc-e2e-")) fs.rmSync(dir, { recursive: true, force: true });
}
