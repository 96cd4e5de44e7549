"use server";
/**
 * Admin-only mutations: create an account for someone, open or close public sign-up. Each action
 * re-reads the session and the role; a non-admin gets "forbidden" and nothing changes.
 */
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { createAccount, createAccountInputSchema } from "@/lib/auth/create-account";
import { getAuth, getSessionUser } from "@/lib/auth/server";
import { setSignupOpen } from "@/lib/db/queries/instance-settings";
import { log } from "@/lib/log";
import type { ActionResult } from "../actions";

type Denied = { status: "unauthorized" } | { status: "forbidden" };

async function requireAdminOr(): Promise<{ denied: Denied } | { adminId: string }> {
  const user = await getSessionUser();
  if (!user) return { denied: { status: "unauthorized" } };
  if (user.role !== "admin") return { denied: { status: "forbidden" } };
  return { adminId: user.id };
}

export async function createAccountAction(input: unknown): Promise<ActionResult<{ email: string }>> {
  const parsed = createAccountInputSchema.safeParse(input);
  if (!parsed.success) return { status: "invalid_data", error: parsed.error.issues.map((i) => i.message).join("; ") };
  const admin = await requireAdminOr();
  if ("denied" in admin) return admin.denied;
  const result = await createAccount(await getAuth(), parsed.data);
  switch (result.status) {
    case "created":
      log.info("admin.account_created", { adminId: admin.adminId, userId: result.userId });
      revalidatePath("/admin");
      return { status: "ok", email: parsed.data.email };
    case "email_taken":
      return { status: "conflict", error: `An account for ${parsed.data.email} already exists.` };
    default: {
      const unreachable: never = result;
      throw new Error(`unexpected result ${JSON.stringify(unreachable)}`);
    }
  }
}

const signupInputSchema = z.object({ open: z.boolean() });

export async function setSignupOpenAction(input: unknown): Promise<ActionResult> {
  const parsed = signupInputSchema.safeParse(input);
  if (!parsed.success) return { status: "invalid_data", error: "open must be true or false" };
  const admin = await requireAdminOr();
  if ("denied" in admin) return admin.denied;
  await setSignupOpen({ open: parsed.data.open });
  log.info("admin.signup_changed", { adminId: admin.adminId, open: parsed.data.open });
  revalidatePath("/admin");
  return { status: "ok" };
}
