import { type TeamMember, TeamView } from "@/components/training/team-view";
import { requireAdmin } from "@/lib/auth/server";
import { listTeamTraining } from "@/lib/db/queries/training-steps";

export const dynamic = "force-dynamic";

/**
 * Admins compare users' training curves: every user of the team, those who have not trained yet
 * included. Only finished steps' metrics leave the server, keyed by the user's email: never step
 * ids, errors, conversations or files. 404 for everyone else.
 */
export default async function TeamPage() {
  await requireAdmin();
  const team = await listTeamTraining();
  const members: TeamMember[] = team.map((m) => ({
    email: m.email,
    steps: m.steps.map((s) => ({
      status: "done",
      step: s.step,
      finishedAt: s.finishedAt?.toISOString() ?? null,
      metrics: s.metrics,
    })),
  }));
  return (
    <main className="mx-auto flex max-w-7xl flex-col gap-3 p-4" data-testid="team-page">
      <h1 className="text-base font-semibold">Team training</h1>
      <p className="text-muted">
        One line per user. Admins see training metrics only, never anyone&apos;s files or conversations.
      </p>
      <TeamView members={members} />
    </main>
  );
}
