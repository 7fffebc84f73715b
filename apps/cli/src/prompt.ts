import { createInterface } from "node:readline/promises";
import { CliError } from "./output.js";

/**
 * Questions on the terminal. Prompts go to stderr so stdout carries only results;
 * without a terminal the caller is told which flag to pass instead.
 */

export const canPrompt = () => process.stdin.isTTY === true;

function needTerminal(question: string, flag: string): never {
  const what = question.replace(/[:?]?\s*(\[y\/N\]:\s*)?$/, "");
  throw new CliError(`cannot ask "${what}" without a terminal: pass ${flag}`, 2, "usage");
}

/** Asks a question and echoes the answer (a username, a TOTP code). */
export async function ask(question: string, flag: string): Promise<string> {
  if (!canPrompt()) needTerminal(question, flag);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Asks for a secret without echoing it (raw mode: we see each key, the terminal shows none). */
export async function askHidden(question: string, flag: string): Promise<string> {
  const input = process.stdin;
  if (!canPrompt()) needTerminal(question, flag);
  // Echo off before the prompt shows: anything typed after seeing it stays hidden.
  input.setRawMode(true);
  input.setEncoding("utf8");
  input.resume();
  process.stderr.write(question);
  return new Promise<string>((resolve, reject) => {
    let value = "";
    const done = () => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write("\n");
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") {
          done();
          resolve(value);
          return;
        }
        if (ch === "\u0003" || (ch === "\u0004" && value === "")) {
          done();
          reject(new CliError("cancelled", 130, "cancelled"));
          return;
        }
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else if (ch === "\u0015") value = "";
        else if (ch >= " ") value += ch;
      }
    };
    input.on("data", onData);
  });
}

/** The first line of standard input (for --password-stdin), without its line ending. */
export async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
}

/** Asks before something that cannot be undone, unless --yes was passed. */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  const answer = await ask(`${question} [y/N]: `, "--yes");
  if (!/^y(es)?$/i.test(answer)) throw new CliError("cancelled", 1, "cancelled");
}
