"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { setSignupOpenAction } from "@/app/(ide)/admin/actions";

export function SignupToggle({ open }: { open: boolean }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="ml-auto flex items-center gap-2">
      <span className={open ? "text-ok" : "text-warn"} data-testid="signup-state">
        {open ? "open" : "closed"}
      </span>
      <button
        type="button"
        className="btn"
        disabled={pending}
        data-testid="signup-toggle"
        onClick={() =>
          startTransition(async () => {
            const result = await setSignupOpenAction({ open: !open });
            setError(result.status === "ok" ? null : `Could not change sign-up (${result.status}).`);
            router.refresh();
          })
        }
      >
        {open ? "Close sign-up" : "Open sign-up"}
      </button>
      {error && <span className="text-danger">{error}</span>}
    </div>
  );
}
