import { CreateWorkspaceForm } from "@/components/workspaces/create-workspace-form";
import { WorkspaceRow } from "@/components/workspaces/workspace-row";
import { requireUser } from "@/lib/auth/server";
import { listWorkspacesByOwner } from "@/lib/db/queries/workspaces";
import { EXAMPLES } from "@/lib/workspaces/seed";

export const dynamic = "force-dynamic";

export default async function WorkspacesPage() {
  const user = await requireUser();
  const rows = await listWorkspacesByOwner({ ownerId: user.id });
  return (
    <main className="mx-auto flex max-w-4xl flex-col gap-4 p-4">
      <section className="panel p-3">
        <h2 className="label mb-2">New workspace</h2>
        <CreateWorkspaceForm examples={[...EXAMPLES]} />
      </section>
      <section className="panel">
        <h2 className="label border-b border-border px-3 py-2">Your workspaces</h2>
        {rows.length === 0 ? (
          <p className="px-3 py-4 text-muted" data-testid="no-workspaces">
            No workspaces yet. Create one above — the calculator example has a failing test to fix.
          </p>
        ) : (
          <ul className="divide-y divide-border" data-testid="workspace-list">
            {rows.map((ws) => (
              <WorkspaceRow key={ws.id} id={ws.id} name={ws.name} path={ws.path} managed={ws.managed} />
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
