import { redirect } from "next/navigation";

// Rendered per request: a static page would be prerendered once and its redirect served with
// `s-maxage=31536000`, so a cache in front of the app would keep sending `/` to /workspaces for a
// year even after the IDE's entry point moves.
export const dynamic = "force-dynamic";

// The IDE starts at the workspace list; signed-out visitors are sent on to /sign-in from there.
export default function Home() {
  redirect("/workspaces");
}
