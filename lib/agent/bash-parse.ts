/**
 * Splits a shell command into the simple commands it runs, for approval rules: words are
 * unquoted as the shell would, and segments are separated by `|`, `|&`, `;`, `&`, `&&`, `||` and
 * newlines. Constructs that can run or write something a prefix rule cannot see (redirects,
 * `$(…)`, backticks, `( … )`/`{ … }` groups, process substitution, `eval`, `sh -c` …) are reported
 * in `risks`; a command with any risk, or one that does not parse, always needs approval.
 */

export type ParsedCommand = {
  /** The words of each simple command, in order (empty commands dropped). */
  segments: string[][];
  /** Why no prefix rule may approve this command; empty when there is no reason. */
  risks: string[];
};

const SHELLS = /^(?:.*\/)?(?:ba|da|z|k|c|tc|fi|mk|a)?sh$/;
const EXECUTES_STRING = new Set(["eval", "exec", "source", ".", "trap"]);

export function parseCommand(command: string): ParsedCommand {
  const segments: string[][] = [];
  const risks = new Set<string>();
  let words: string[] = [];
  let word = "";
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  const endSegment = () => {
    endWord();
    if (words.length > 0) segments.push(words);
    words = [];
  };

  let i = 0;
  const n = command.length;
  while (i < n) {
    const ch = command[i]!;
    const next = command[i + 1];
    if (ch === "\\") {
      if (next === "\n")
        i += 2; // line continuation
      else {
        word += next ?? "";
        inWord = true;
        i += 2;
      }
      continue;
    }
    if (ch === "'") {
      const end = command.indexOf("'", i + 1);
      if (end === -1) return { segments, risks: ["unterminated quote"] };
      word += command.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (ch === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = command[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === "\\" && i + 1 < n) {
          word += command[i + 1];
          i += 2;
          continue;
        }
        if (c === "`") risks.add("command substitution `…`");
        if (c === "$" && command[i + 1] === "(") risks.add("command substitution $(…)");
        word += c;
        i++;
      }
      if (!closed) return { segments, risks: ["unterminated quote"] };
      inWord = true;
      continue;
    }
    if (ch === "`") {
      risks.add("command substitution `…`");
      word += ch;
      inWord = true;
      i++;
      continue;
    }
    if (ch === "$" && next === "(") {
      risks.add("command substitution $(…)");
      word += ch;
      inWord = true;
      i++;
      continue;
    }
    if (ch === "$" && next === "'") risks.add("ANSI-C quoting $'…'");
    if ((ch === "<" || ch === ">") && next === "(") {
      risks.add("process substitution");
      i += 2;
      continue;
    }
    if (ch === "<" || ch === ">") {
      endWord();
      let op = ch;
      i++;
      while (command[i] === ">" || command[i] === "<" || command[i] === "&" || command[i] === "|") op += command[i++];
      risks.add(op.startsWith("<<") ? "here-document <<" : `redirect ${op}`);
      continue;
    }
    if (ch === "(" || ch === ")") {
      risks.add("subshell ( … )");
      endSegment();
      i++;
      continue;
    }
    if (ch === "#" && !inWord) {
      const eol = command.indexOf("\n", i);
      i = eol === -1 ? n : eol;
      continue;
    }
    if (ch === ";" || ch === "\n" || ch === "|" || ch === "&") {
      // `&>` and `>&` are redirects; the `>` branch above already saw the latter.
      if (ch === "&" && next === ">") {
        risks.add("redirect &>");
        endWord();
        i += 2;
        continue;
      }
      endSegment();
      i += (ch === "|" || ch === "&") && (next === ch || (ch === "|" && next === "&")) ? 2 : 1;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\r") {
      endWord();
      i++;
      continue;
    }
    word += ch;
    inWord = true;
    i++;
  }
  endSegment();

  for (const segment of segments) {
    const first = segment[0]!;
    if (first === "{" || first === "}") risks.add("command group { … }");
    if (EXECUTES_STRING.has(first)) risks.add(`${first} runs a string as a command`);
    const shellAt = segment.findIndex((w) => SHELLS.test(w));
    if (shellAt !== -1 && segment.slice(shellAt + 1).some((w) => /^-[a-zA-Z]*c/.test(w)))
      risks.add(`${segment[shellAt]} -c runs a string as a command`);
  }
  return { segments, risks: [...risks] };
}

/** Does `words` start with the space-separated words of `prefix`? */
export function matchesPrefix(words: string[], prefix: string): boolean {
  const want = prefix.trim().split(/\s+/).filter(Boolean);
  return want.length > 0 && want.length <= words.length && want.every((w, i) => words[i] === w);
}
