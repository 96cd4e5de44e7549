import { CreateAccountForm } from "@/components/admin/create-account-form";
import { RegisterWorkspaceForm } from "@/components/admin/register-workspace-form";
import { SignupToggle } from "@/components/admin/signup-toggle";
import { requireAdmin } from "@/lib/auth/server";
import { isSignupOpen } from "@/lib/db/queries/instance-settings";
import { listUsers } from "@/lib/db/queries/users";

export const dynamic = "force-dynamic";

// Admins manage accounts, never content: nothing here shows another user's workspaces or files.
export default async function AdminPage() {
  await requireAdmin();
  const [users, signupOpen] = await Promise.all([listUsers(), isSignupOpen()]);
  return (
    <main className="mx-auto flex max-w-4xl flex-col gap-4 p-4" data-testid="admin-page">
      <section className="panel flex items-center gap-3 p-3">
        <div>
          <h2 className="label">Public sign-up</h2>
          <p className="text-muted">
            When closed, only admins can create accounts (the server refuses sign-up requests).
          </p>
        </div>
        <SignupToggle open={signupOpen} />
      </section>
      <section className="panel p-3">
        <h2 className="label mb-2">Create an account</h2>
        <CreateAccountForm />
      </section>
      <section className="panel">
        <h2 className="label border-b border-border px-3 py-2">Users ({users.length})</h2>
        <table className="w-full text-left" data-testid="users-table">
          <thead className="text-muted">
            <tr>
              <th className="px-3 py-1.5 font-normal">Name</th>
              <th className="px-3 py-1.5 font-normal">Email</th>
              <th className="px-3 py-1.5 font-normal">Role</th>
              <th className="px-3 py-1.5 font-normal">Created</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-border">
            {users.map((u) => (
              <tr key={u.id} data-testid="user-row" data-email={u.email}>
                <td className="px-3 py-1.5">{u.name}</td>
                <td className="px-3 py-1.5 font-mono text-xs">{u.email}</td>
                <td className="px-3 py-1.5" data-testid="user-role">
                  {u.role}
                </td>
                <td className="px-3 py-1.5 text-muted">{u.createdAt.toISOString().slice(0, 16).replace("T", " ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="panel p-3">
        <h2 className="label mb-2">Register an existing directory as your workspace</h2>
        <RegisterWorkspaceForm />
      </section>
    </main>
  );
}
