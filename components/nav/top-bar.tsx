import Link from "next/link";
import { SignOutButton } from "./sign-out-button";

export function TopBar({ email, isAdmin }: { email: string; isAdmin: boolean }) {
  return (
    <header className="flex h-9 shrink-0 items-center gap-4 border-b border-border bg-panel px-3" data-testid="top-bar">
      <Link href="/workspaces" className="font-mono font-semibold tracking-tight">
        continualcode
      </Link>
      <nav className="flex items-center gap-3 text-muted">
        <Link href="/workspaces" className="hover:text-fg" data-testid="nav-workspaces">
          Workspaces
        </Link>
        <Link href="/dashboard" className="hover:text-fg" data-testid="nav-dashboard">
          Dashboard
        </Link>
        <Link href="/settings" className="hover:text-fg" data-testid="nav-settings">
          Settings
        </Link>
        {isAdmin && (
          <Link href="/admin" className="hover:text-fg" data-testid="nav-admin">
            Admin
          </Link>
        )}
        {isAdmin && (
          <Link href="/admin/team" className="hover:text-fg" data-testid="nav-team">
            Team
          </Link>
        )}
      </nav>
      <div className="ml-auto flex items-center gap-3">
        <span className="text-muted" data-testid="current-user">
          {email}
          {isAdmin && <span className="ml-1.5 rounded bg-accent/20 px-1 text-[11px] text-accent">admin</span>}
        </span>
        <SignOutButton />
      </div>
    </header>
  );
}
