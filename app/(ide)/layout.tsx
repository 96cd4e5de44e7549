import type { ReactNode } from "react";
import { TopBar } from "@/components/nav/top-bar";
import { requireUser } from "@/lib/auth/server";

// Every page of the IDE needs a signed-in user; the check runs per request, so nothing is prerendered.
export const dynamic = "force-dynamic";

export default async function IdeLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  return (
    <div className="flex h-full flex-col">
      <TopBar email={user.email} isAdmin={user.role === "admin"} />
      <div className="min-h-0 flex-1">{children}</div>
    </div>
  );
}
