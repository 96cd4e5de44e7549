import type { ReactNode } from "react";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main className="flex min-h-full items-center justify-center p-6">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <div className="font-mono text-lg font-semibold tracking-tight">continualcode</div>
          <div className="text-muted">an agent that learns from every correction</div>
        </div>
        {children}
      </div>
    </main>
  );
}
