import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { executeStages, type RunOptions, type RunSummary } from "../../engine/executor.ts";
import { Session, type SessionOptions } from "../../engine/session.ts";
import type { ProjectDefinition } from "../../engine/stage.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/toy/", import.meta.url));
// Inside the repository (not /tmp) so copies resolve arktype and tsx from its node_modules, and at the
// fixture's depth so its relative imports of ../../../engine/ reach this engine unchanged.
const RIGS = fileURLToPath(new URL("../../.tmp/rigs/", import.meta.url));

/** A fresh copy of the toy project in a temp dir, wired to this engine: the wireit-style test rig. */
export class ToyRig {
  private constructor(
    readonly dir: string,
    readonly project: ProjectDefinition<any>,
  ) {}

  static async create(): Promise<ToyRig> {
    await mkdir(RIGS, { recursive: true });
    const dir = await mkdtemp(join(RIGS, "toy-"));
    await cp(FIXTURE, dir, { recursive: true });
    const module = (await import(pathToFileURL(join(dir, "project.ts")).href)) as { project: ProjectDefinition<any> };
    return new ToyRig(dir, module.project);
  }

  async run(options: RunOptions & { overrides?: string[]; remote?: SessionOptions["remote"] } = {}): Promise<RunSummary> {
    const session = await Session.open(this.project, { overrides: options.overrides ?? [], ...(options.remote ? { remote: options.remote } : {}) });
    return executeStages(session, options);
  }

  async session(overrides: string[] = [], remote?: SessionOptions["remote"]): Promise<Session<any>> {
    return Session.open(this.project, { overrides, ...(remote ? { remote } : {}) });
  }

  /** How many times each stage has started so far. */
  async invocations(): Promise<Record<string, number>> {
    const log = await readFile(join(this.dir, "invocations.log"), "utf8").catch(() => "");
    const counts: Record<string, number> = {};
    for (const line of log.split("\n")) {
      const [stage, event] = line.split(" ");
      if (stage && event === "start") counts[stage] = (counts[stage] ?? 0) + 1;
    }
    return counts;
  }

  async intervals(): Promise<Record<string, { start: number; end?: number }>> {
    const log = await readFile(join(this.dir, "invocations.log"), "utf8").catch(() => "");
    const spans: Record<string, { start: number; end?: number }> = {};
    for (const line of log.split("\n")) {
      const [stage, event, time] = line.split(" ");
      if (!stage) continue;
      if (event === "start") spans[stage] = { start: Number(time) };
      else if (spans[stage]) spans[stage]!.end = Number(time);
    }
    return spans;
  }

  async editParams(edit: (params: any) => void): Promise<void> {
    const path = join(this.dir, "params.json");
    const params = JSON.parse(await readFile(path, "utf8"));
    edit(params);
    await writeFile(path, JSON.stringify(params, null, 2));
  }

  async editFile(relativePath: string, edit: (text: string) => string): Promise<void> {
    const path = join(this.dir, relativePath);
    await writeFile(path, edit(await readFile(path, "utf8")));
  }

  /** Runs the toy CLI in its own process (for exit codes, kill -9, concurrency). */
  spawnCli(args: string[], env: Record<string, string> = {}): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> } {
    const child = spawn(process.execPath, ["--import", "tsx", join(this.dir, "cli.ts"), ...args], {
      cwd: this.dir,
      env: { ...process.env, CI: "true", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
    return { child, done };
  }
}
