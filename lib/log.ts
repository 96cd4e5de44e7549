/**
 * Structured logs: one JSON object per line on stdout, `{ ts, level, msg, ...fields }`, so a log
 * collector (or `jq`) can read them. `child(fields)` adds context (conversationId, userId) to every
 * line of a subsystem. Secrets never reach the output: fields named like credentials and values
 * shaped like Tinker keys are replaced before serialising. LOG_LEVEL picks the threshold.
 */

export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACTED = "[redacted]";

/** camelCase or kebab → snake, then a credential-like name: api_key, secret, password, *_token… */
const SECRET_NAME = /(^|_)(api_?key|secret|password|passwd|authorization|cookie|token)$/;
const SECRET_VALUE = /^(tml-|sk-|Bearer\s)/;

function isSecretName(name: string): boolean {
  return SECRET_NAME.test(
    name
      .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .replace(/-/g, "_")
      .toLowerCase(),
  );
}

/** A copy of `value` safe to print: secrets replaced, errors made readable, depth bounded. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return SECRET_VALUE.test(value) ? REDACTED : value;
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message, depth + 1), stack: value.stack };
  }
  if (value === null || typeof value !== "object") return value;
  if (depth >= 6) return "[depth]";
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Fields = {};
  for (const [k, v] of Object.entries(value)) {
    // An unset secret stays visibly unset; a set one is replaced.
    out[k] = isSecretName(k) && v !== undefined && v !== null ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

export type Logger = {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
};

export type LoggerOptions = {
  level?: Level;
  /** Where lines go; stdout by default (tests pass an array's push). */
  write?: (line: string) => void;
  fields?: Fields;
};

function envLevel(): Level {
  const raw = process.env.LOG_LEVEL;
  return raw === "debug" || raw === "info" || raw === "warn" || raw === "error" ? raw : "info";
}

/** Where the default loggers write: stdout, or stderr in a command whose stdout is its result. */
let sink: NodeJS.WritableStream = process.stdout;

/** For commands that print one JSON object on stdout (the benchmarks): their log lines go to stderr. */
export function logToStderr(): void {
  sink = process.stderr;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? envLevel();
  const write = options.write ?? ((line: string) => sink.write(`${line}\n`));
  const base = options.fields ?? {};
  const emit = (lvl: Level, msg: string, fields?: Fields) => {
    if (RANK[lvl] < RANK[level]) return;
    const record = redact({ ...base, ...fields }) as Fields;
    let line: string;
    try {
      line = JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, ...record });
    } catch {
      // A cycle or a BigInt in the fields: keep the message rather than lose the line.
      line = JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, fields: "[unserialisable]" });
    }
    write(line);
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => createLogger({ level, write, fields: { ...base, ...fields } }),
  };
}

/** The process's logger. */
export const log: Logger = createLogger();
