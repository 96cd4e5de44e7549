import { redirect } from "next/navigation";
import { SignUpForm } from "@/components/auth/sign-up-form";
import { getSessionUser } from "@/lib/auth/server";
import { countUsers } from "@/lib/db/queries/users";
import { isSignupOpen } from "@/lib/db/queries/instance-settings";

export const dynamic = "force-dynamic";

export default async function SignUpPage() {
  if (await getSessionUser()) redirect("/workspaces");
  const [open, users] = await Promise.all([isSignupOpen(), countUsers()]);
  return <SignUpForm open={open} firstAccount={users === 0} />;
}
