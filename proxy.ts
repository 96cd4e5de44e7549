/**
 * Runs before every request that reaches a page, a server action or a route handler: one that can
 * change state and does not come from this site is answered 403 (lib/auth/same-origin.ts), before
 * any action or handler runs.
 */
import { type NextRequest, NextResponse } from "next/server";
import { trustProxyFromEnv } from "@/lib/auth/trust-proxy";
import { crossOriginRefusal } from "@/lib/auth/same-origin";
import { AppError } from "@/lib/errors";

export function proxy(request: NextRequest): Response {
  const refusal = crossOriginRefusal(request.method, request.headers, {
    trustProxy: trustProxyFromEnv(),
    publicUrl: process.env.BETTER_AUTH_URL || undefined,
  });
  if (refusal) return new AppError("forbidden:api", refusal).toResponse();
  return NextResponse.next();
}

export const config = {
  // Built assets are only ever read; everything else (pages, actions, /api) goes through the check.
  matcher: ["/((?!_next/static|_next/image|icon.svg).*)"],
};
