// better-auth's endpoints (sign-up, sign-in, sign-out, session) under /api/auth/*.
import { getAuth } from "@/lib/auth/server";

export const dynamic = "force-dynamic";

async function handler(request: Request): Promise<Response> {
  return (await getAuth()).handler(request);
}

export { handler as GET, handler as POST };
