import { TrainingDashboard } from "@/components/training/training-dashboard";
import { requireUser } from "@/lib/auth/server";
import { listPoliciesByOwner } from "@/lib/db/queries/policies";

export const dynamic = "force-dynamic";

/** The signed-in user's training curves and steps; the steps arrive over the live stream. */
export default async function DashboardPage() {
  const user = await requireUser();
  const policies = await listPoliciesByOwner({ ownerId: user.id });
  return (
    <main className="mx-auto flex max-w-7xl flex-col gap-3 p-4" data-testid="dashboard-page">
      <h1 className="text-base font-semibold">Training</h1>
      <TrainingDashboard policies={policies.map((p) => ({ id: p.id, name: p.name }))} />
    </main>
  );
}
