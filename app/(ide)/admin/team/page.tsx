import { type TeamMember, TeamView } from "@/components/training/team-view";
import { requireAdmin } from "@/lib/auth/server";
import { listAllTrainingSteps } from "@/lib/db/queries/training-steps";

export const dynamic = "force-dynamic";

/**
 * Admins compare users' training curves. Only finished steps' metrics leave the server, keyed
 * by the user's email: never step ids, errors, conversations or files. 404 for everyone else.
 */
export default async function TeamPage() {
  await requireAdmin();
  const rows = await listAllTrainingSteps();
  const byUser = new Map<string, TeamMember>();
  // Newest first from the query; each user's steps are wanted oldest first.
  for (const row of [...rows].reverse()) {
    if (row.status !== "done" || !row.metrics) continue;
    let member = byUser.get(row.userEmail);
    if (!member) {
      member = { email: row.userEmail, steps: [] };
      byUser.set(row.userEmail, member);
    }
    member.steps.push({ status: "done", step: row.step, finishedAt: row.finishedAt?.toISOString() ?? null, metrics: row.metrics });
  }
  const members = [...byUser.values()].sort((a, b) => a.email.localeCompare(b.email));
  return (
    <main className="mx-auto flex max-w-7xl flex-col gap-3 p-4" data-testid="team-page">
      <h1 className="text-base font-semibold">Team training</h1>
      <p className="text-muted">One line per user. Admins see training metrics only, never anyone&apos;s files or conversations.</p>
      <TeamView members={members} />
    </main>
  );
}
