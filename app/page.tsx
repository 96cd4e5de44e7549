import { redirect } from "next/navigation";

// The IDE starts at the workspace list; signed-out visitors are sent on to /sign-in from there.
export default function Home() {
  redirect("/workspaces");
}
