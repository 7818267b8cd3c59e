import { relative } from "node:path";
import { PipelineError } from "./errors.ts";

/**
 * How the CLI words an error: what failed and where, in one or two lines. A JavaScript stack helps
 * whoever debugs the engine, not someone whose disk is read-only, so it is shown only with --verbose.
 */

/** Node's system errors (fs, child_process) carry their errno name, the call and the path. */
interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

const SYSTEM_ERRORS: Readonly<Record<string, string>> = {
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ENOENT: "no such file or directory",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder, not a file",
  EEXIST: "it already exists",
  EMFILE: "too many open files",
  ENAMETOOLONG: "the path is too long",
};

/** Node's syscall names, as verbs: "cannot create artifacts/.run.lock". */
const ACTIONS: Readonly<Record<string, string>> = {
  open: "open",
  mkdir: "create the folder",
  rename: "rename",
  unlink: "delete",
  rmdir: "delete",
  rm: "delete",
  write: "write to",
  copyfile: "copy",
  scandir: "list",
  stat: "read",
  lstat: "read",
  access: "access",
  chmod: "change the mode of",
};

const WRITE_DENIED = new Set(["EROFS", "EACCES", "EPERM", "ENOSPC", "EDQUOT", "ENOTDIR"]);

function isSystemError(error: unknown): error is SystemError {
  return error instanceof Error && typeof (error as Partial<SystemError>).code === "string" && /^E[A-Z]+$/.test((error as SystemError).code);
}

/** The lines to print after "pipeline: " for an error that ended a command. */
export function describeCommandError(error: unknown, options: { root: string; verbose: boolean }): string[] {
  if (error instanceof PipelineError) return [error.message];
  if (isSystemError(error)) {
    const where = error.path === undefined ? "" : ` ${shortPath(error.path, options.root)}`;
    const what = SYSTEM_ERRORS[error.code] ?? error.message.replace(/^[A-Z]+: /, "");
    const action = error.syscall === undefined ? "access" : (ACTIONS[error.syscall] ?? error.syscall);
    const lines = [`cannot ${action}${where}: ${what} (${error.code})`];
    if (WRITE_DENIED.has(error.code) && error.path?.includes("artifacts")) {
      lines.push("runs keep their lock and cache in artifacts/: make it writable (status, dag and diff only read it)");
    }
    return options.verbose && error.stack ? [...lines, error.stack] : lines;
  }
  if (error instanceof Error) {
    if (options.verbose && error.stack) return [error.stack];
    return [firstLines(error.message), ...(error.stack ? ["(--verbose shows where it was thrown)"] : [])];
  }
  return [String(error)];
}

/** The message part of an error text: everything before the first stack frame, without a bare "Error: " prefix. */
function firstLines(text: string): string {
  const lines = text.split("\n");
  const frame = lines.findIndex((line) => /^\s+at\s/.test(line));
  const message = (frame < 0 ? lines : lines.slice(0, frame)).join("\n").trimEnd();
  return message.replace(/^Error: /, "") || text.split("\n")[0]!;
}

function shortPath(path: string, root: string): string {
  const inside = relative(root, path);
  return inside && !inside.startsWith("..") ? inside : path;
}
