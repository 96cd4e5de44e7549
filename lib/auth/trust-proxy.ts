/**
 * --trust-proxy / CONTINUALCODE_TRUST_PROXY, read on its own (not through the whole configuration)
 * so that proxy.ts and the request stamp stay light and a bad unrelated setting cannot break requests.
 */
import { envNames } from "@/lib/config/fields";
import { valueFromText } from "@/lib/config/text";

export function trustProxyFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  for (const name of envNames("trustProxy")) {
    const raw = env[name];
    if (raw !== undefined && raw !== "") return valueFromText("trustProxy", raw, name) as boolean;
  }
  return false;
}
