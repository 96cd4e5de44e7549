import Link from "next/link";

export default function NotFound() {
  return (
    <main className="flex min-h-full flex-col items-center justify-center gap-2 p-6" data-testid="not-found">
      <h1 className="font-mono text-lg">404</h1>
      <p className="text-muted">This page does not exist, or it is not yours.</p>
      <Link className="text-accent hover:underline" href="/workspaces">
        Back to your workspaces
      </Link>
    </main>
  );
}
