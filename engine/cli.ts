import { availableParallelism } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { describeCommandError } from "./error-output.ts";
import { PipelineError, errorMessage, exitCodeFor } from "./errors.ts";
import { executeStages, type RunSummary, type StageOutcome } from "./executor.ts";
import { collectGarbage } from "./gc.ts";
import { renderDagMermaid, renderDagText } from "./graph.ts";
import { planStages, type StagePlan } from "./planner.ts";
import { acquireProcessLock } from "./process-lock.ts";
import { Session } from "./session.ts";
import type { ProjectDefinition } from "./stage.ts";
import type { ExecutionOption } from "./execution.ts";
import { describeFailure } from "./failure.ts";
import { readLock } from "./lock-file.ts";
import { graceSeconds, openConfiguredRemote, REMOTE_FLAGS, REMOTE_USAGE } from "./remote-cli.ts";
import { pullCommand, pushCommand, remoteGc } from "./remote-commands.ts";
import { connectCoordinator, QUEUE_FLAGS, QUEUE_USAGE, queueStatusLines, workerCommand, workPlan } from "./queue-cli.ts";
import { describeReason } from "./why.ts";
import { checkReport, currentMetrics, diffReport, readBaseline, resolveLock, runComparison, writeBaseline } from "./metrics-commands.ts";

export const USAGE = `Usage: pipeline [command] [options]

Commands:
  run (default)   run every stage whose cache key changed; reuse the rest
  status          per stage: up to date or will run, and why
  dag             the stage graph as text (--mermaid for a Mermaid flowchart)
  gc              delete cached results no lock file references
  check           run the CI profile, then compare its metrics with the baseline: exit 1 on a regression
  baseline        record the current metrics as the baseline (explicit, never implicit; default: check's profile)
  diff [A] [B]    metrics and params between two lock files or git revisions (default: HEAD and now)
  logs STAGE      the whole output (stdout and stderr) of a stage's last run, or of its last failed attempt
  push            upload the results the lock names (or --only) to the remote
  pull            download the results the lock names (or --only) from the remote, verified
  worker          take stage jobs from --queue and run them in this checkout (needs --remote)
  plan            estimate the pending run's wall time on --workers N from the lock's durations

Options:
  --params FILE        params file (default: params.json)
  -S, --set PATH=VALUE override one param, typed by the schema (repeatable)
  --only PATTERN       act on matching stages (glob, e.g. 'train@simple-*') and what they need (repeatable)
  --downstream         with --only: also the stages that depend on the matches
  --force PATTERN      rerun matching stages even if cached (repeatable)
  --dry-run            show what run would do (gc: what it would delete)
  -j, --jobs N         stages run at once (default: the number of cores)
  --keep-going         after a failure, continue every branch that does not depend on it
  --verify             rehash every cached output instead of trusting unchanged file stats
  --wait SECONDS       if another run holds the project, wait this long for it (default 0)
  --json               status/check/diff: machine-readable output (progress goes to stderr)
  --mermaid            dag: Mermaid instead of text
  --baseline FILE      check/baseline: the baseline file (default reports/baseline.json)
  --md                 check/diff: markdown, e.g. for a pull-request comment
  --all                diff: list unchanged values too
  --verbose            show stack traces and the last lines a failed stage printed
  -h, --help           this text

${REMOTE_USAGE}

${QUEUE_USAGE}

Exit codes: 0 success, 1 a stage failed (check: a regression), 2 bad command line, params or
baseline, 3 project busy, 130 interrupted.`;

const COMMANDS = ["run", "status", "dag", "gc", "check", "baseline", "diff", "logs", "push", "pull", "worker", "plan"] as const;
type Command = (typeof COMMANDS)[number];

export interface CliIo {
  /** The command's result (a table, JSON, markdown): what a pipe or a file should receive. */
  out(text: string): void;
  /** Progress notes, warnings and errors. */
  err(text: string): void;
  /** Whether the progress display (on stderr) may redraw lines: a terminal, outside CI. */
  tty: boolean;
}

const defaultIo: CliIo = {
  out: (text) => process.stdout.write(text + "\n"),
  err: (text) => process.stderr.write(text + "\n"),
  tty: Boolean(process.stderr.isTTY) && process.env.CI !== "true",
};

/** Returns the process exit code. Never throws for user errors: it prints what to fix. */
export async function main<Params>(project: ProjectDefinition<Params>, argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const verbose = argv.includes("--verbose"); // known before parsing, so a parse error can honour it too
  try {
    const executionOptions = project.execution?.options ?? [];
    const { values, positionals } = parseCommandLine(argv, executionOptions);
    if (values.help) {
      io.out(usage(executionOptions));
      return 0;
    }
    const command = (positionals[0] ?? "run") as Command;
    if (!COMMANDS.includes(command) || (command !== "diff" && command !== "logs" && positionals.length > 1) || positionals.length > 3 || (command === "logs" && positionals.length !== 2)) {
      throw new PipelineError("invalid-cli", `unknown command "${positionals.join(" ")}"; expected one of ${COMMANDS.join(", ")}`);
    }
    // One stage per core by default: independent single-threaded stages side by side use the
    // cores better than one stage spreading threads over them.
    const jobs = values.jobs === undefined ? availableParallelism() : positiveInteger("--jobs", values.jobs);
    const waitSeconds = values.wait === undefined ? 0 : positiveInteger("--wait", values.wait, true);
    const executionFlags = Object.fromEntries(executionOptions.map((option) => [option.name, (values as Record<string, unknown>)[option.name] as string | undefined]));

    if (values["dry-run"] && (command === "push" || command === "pull" || command === "worker")) {
      throw new PipelineError("invalid-cli", `--dry-run applies to run, check, baseline and gc; ${command} has no dry run`);
    }
    if (values.downstream && !values.only?.length) {
      throw new PipelineError("invalid-cli", "--downstream extends the stages --only matched with their dependents: give --only PATTERN too");
    }
    // `baseline` records what `check` compares against, so both default to the same profile.
    const checkProfile = (command === "check" || command === "baseline") && project.check;
    const paramsFile = values.params ? resolve(values.params) : join(project.root, checkProfile ? project.check!.defaultParams : "params.json");
    // Commands that only look (status, dag, diff, logs, baseline, any --dry-run) write nothing under artifacts/.
    const writes = (command === "run" || command === "check" || command === "gc" || command === "pull") && !values["dry-run"];
    const warn = (message: string): void => io.err(`pipeline: warning: ${message}`);
    // `gc` works on the remote only when --remote is given explicitly, never through PIPELINE_REMOTE.
    const remote = command === "gc" && values.remote === undefined ? undefined : await openConfiguredRemote(values, process.env, warn);
    if (values.push && !remote) throw new PipelineError("invalid-cli", "--push needs a remote: give --remote URL or set PIPELINE_REMOTE");
    if (values.push && remote && !remote.writable) throw new PipelineError("invalid-cli", `--push: ${remote.url} is opened read-only`);
    if ((command === "push" || command === "pull") && !remote) throw new PipelineError("invalid-cli", `${command} needs a remote: give --remote URL or set PIPELINE_REMOTE`);
    if (command === "worker") return await workerCommand(project as ProjectDefinition<unknown>, values, remote, executionFlags, io.err);
    const session = await Session.open(project, {
      ...(remote && command !== "gc" ? { remote: { cache: remote, push: (values.push ?? false) && writes, warn } } : {}),
      paramsFile,
      overrides: values.set ?? [],
      execution: executionFlags,
      jobs,
      readOnly: !writes,
    });
    if (command === "run" || command === "check") {
      for (const warning of project.execution?.warnings?.(session.execution, { cores: availableParallelism(), jobs }) ?? []) io.err(`pipeline: warning: ${warning}`);
    }
    const selection = { only: values.only ?? [], downstream: values.downstream ?? false, force: values.force ?? [] };

    const baselinePath = resolve(values.baseline ?? join(project.root, "reports", "baseline.json"));
    const format = values.md ? "markdown" : "text";
    if (command === "diff") {
      const [a = "HEAD", b = session.lockPath] = positionals.slice(1);
      const [lockA, lockB] = await Promise.all([resolveLock(a, session.lockPath, project.root), resolveLock(b, session.lockPath, project.root)]);
      for (const note of [lockA.note, lockB.note]) if (note) io.err(`pipeline: diff: ${note}`);
      io.out(diffReport(lockA.lock, lockB.lock, [a === session.lockPath ? "workspace" : a, b === session.lockPath ? "workspace" : b], values.json ? "json" : format, values.all ?? false));
      return 0;
    }
    if (command === "baseline") {
      const plans = await planStages(session);
      const fresh = new Set(plans.filter((plan) => plan.state === "up-to-date").map((plan) => plan.stage));
      const metrics = currentMetrics(session, fresh, `pipeline run --params ${relative(project.root, paramsFile)}`);
      if (values["dry-run"]) {
        io.out(`would write ${Object.keys(metrics).length} stages' metrics to ${baselinePath}; nothing was written`);
        return 0;
      }
      await writeBaseline(baselinePath, paramsFile, metrics, project.root);
      io.out(`wrote ${Object.keys(metrics).length} stages' metrics to ${baselinePath}`);
      return 0;
    }
    if (command === "logs") {
      io.out(await stageLog(session, positionals[1]!));
      return 0;
    }
    if (command === "dag") {
      io.out(values.mermaid ? renderDagMermaid(session.graph) : renderDagText(session.graph));
      return 0;
    }
    if (command === "status" || ((command === "run" || command === "check") && values["dry-run"])) {
      // check --dry-run: what would run, and whether the baseline is there and of this profile (exit 2 if not).
      if (command === "check") sameProfile(await readBaseline(baselinePath), baselinePath, relative(project.root, paramsFile));
      const plans = await planStages(session, { ...selection, deepVerify: values.verify ?? false });
      io.out(values.json ? JSON.stringify(plans, null, 2) : renderPlans(plans));
      if (command === "check" && !values.json) io.out(`then compare with ${relative(project.root, baselinePath)}; nothing was run or written`);
      if (command === "status" && values.workers !== undefined) io.out(await workPlan(session, selection, values));
      if (command === "status" && values.queue !== undefined) for (const line of await queueStatusLines(values)) io.out(line);
      return 0;
    }
    if (command === "plan") {
      io.out(await workPlan(session, selection, values));
      return 0;
    }
    if (command === "push") {
      io.out(await pushCommand(session, remote!, selection.only, warn));
      return 0;
    }
    if (command === "gc" && remote) {
      const result = await remoteGc(session, remote, { refs: values.ref ?? [], graceSeconds: graceSeconds(values.grace), dryRun: values["dry-run"] ?? false });
      for (const line of result.lines) io.out(line);
      return 0;
    }
    if (command === "gc" && values["dry-run"]) {
      // Only lists, so it neither needs nor takes the run lock (taking it would write to artifacts/).
      for (const line of gcReport(await collectGarbage(session, { dryRun: true }), true)) io.out(line);
      return 0;
    }
    const lock = await acquireProcessLock(join(session.workDir, "artifacts", ".run.lock"), waitSeconds, argv.join(" ") || "run");
    let queue: Awaited<ReturnType<typeof connectCoordinator>> | undefined;
    try {
      if (command === "gc") {
        for (const line of gcReport(await collectGarbage(session), false)) io.out(line);
        return 0;
      }
      if (command === "pull") {
        io.out(await pullCommand(session, selection.only, warn));
        return 0;
      }
      // A coordinator dispatches every ready stage (by default): the workers' concurrency bounds what runs.
      queue = values.queue !== undefined ? await connectCoordinator(values, session as Session<unknown>, remote, warn) : undefined;
      const runOptions = {
        ...selection,
        jobs: queue && values.jobs === undefined ? session.graph.order.length : jobs,
        keepGoing: values["keep-going"] ?? false,
        deepVerify: values.verify ?? false,
        ...(queue ? { runnerFor: () => queue! } : {}),
      };
      // Fail before any training: no baseline, or one recorded from another profile.
      const baseline = command === "check" ? sameProfile(await readBaseline(baselinePath), baselinePath, relative(project.root, paramsFile)) : undefined;
      // check's stdout is its report (text, --json or --md); the run's own lines go to stderr.
      const note = command === "check" ? io.err : io.out;
      const code = await runWithReporter(session, runOptions, { ...io, out: note }, verbose);
      const queueSummary = queue?.summary();
      if (queueSummary) note(queueSummary);
      if (code === 0 && !values["dry-run"] && project.publish && selection.only.length === 0) {
        const materialize = async (stage: string): Promise<string> => {
          const entry = (await readLock(session.lockPath)).stages[stage];
          if (!entry) throw new PipelineError("unknown-stage", `${session.lockPath} has no "${stage}" stage to publish`);
          return session.store.materialize(stage, entry.fingerprint);
        };
        for (const line of await project.publish({ lockPath: session.lockPath, workDir: session.workDir, materialize })) note(line);
      }
      if (!baseline) return code;
      if (code !== 0) {
        io.err("pipeline: check: the pipeline did not finish, so nothing was compared");
        return code === 130 ? 130 : 2;
      }
      const after = await Session.open(project, { paramsFile, overrides: values.set ?? [] });
      const current = currentMetrics(after, new Set(after.graph.order));
      const { rows, passed } = runComparison(current, baseline, project.check?.tolerances(after.params) ?? {});
      io.out(values.json ? JSON.stringify({ passed, rows }, null, 2) : checkReport(rows, format));
      return passed ? 0 : 1;
    } finally {
      await queue?.close();
      await lock.release();
    }
  } catch (error) {
    const [first, ...rest] = describeCommandError(error, { root: project.root, verbose });
    io.err(`pipeline: ${first}`);
    for (const line of rest) io.err(line);
    return exitCodeFor(error);
  }
}

function gcReport(result: Awaited<ReturnType<typeof collectGarbage>>, dryRun: boolean): string[] {
  const size = `${(result.freedBytes / 2 ** 20).toFixed(1)} MiB`;
  return [
    ...result.removed.map((path) => `${dryRun ? "would remove" : "removed"} ${path}`),
    ...(result.codeCacheEntries ? [`${dryRun ? "would remove" : "removed"} ${result.codeCacheEntries} code-fingerprint cache entr${result.codeCacheEntries === 1 ? "y" : "ies"} of file contents this checkout no longer has`] : []),
    dryRun ? `would remove ${result.removed.length} (${size}) and keep ${result.kept}; nothing was deleted` : `${result.removed.length} removed (${size}), ${result.kept} kept`,
  ];
}

/** A baseline is only comparable with metrics of the profile it was recorded from. */
function sameProfile<B extends { params?: string }>(baseline: B, baselinePath: string, profile: string): B {
  if (baseline.params === undefined || baseline.params === profile) return baseline;
  throw new PipelineError(
    "invalid-baseline",
    `${baselinePath} was recorded from ${baseline.params}, but this check runs ${profile}: their metrics are not comparable. ` +
      `Check that profile with \`pipeline check --params ${baseline.params}\`, or record a baseline for this one with ` +
      `\`pipeline run --params ${profile}\` then \`pipeline baseline --params ${profile}\``,
  );
}

async function runWithReporter<Params>(
  session: Session<Params>,
  options: Parameters<typeof executeStages>[1],
  io: CliIo,
  verbose: boolean,
): Promise<number> {
  const controller = new AbortController();
  // process.on, not once: a `once` listener is removed before it runs, and listr2's cursor helper
  // (signal-exit) then sees itself as the last SIGINT listener and re-raises the signal, killing the
  // process mid-render with the cursor hidden and nothing said.
  const onSignal = (): void => {
    if (controller.signal.aborted) {
      // A second Ctrl-C: stop now. Results are committed whole or not at all, so nothing half-written is trusted.
      showCursor();
      io.err("pipeline: interrupted again: exiting now; finished stages are kept");
      process.exit(130);
    }
    io.err("\npipeline: interrupted — stopping running stages (Ctrl-C again to exit at once); nothing half-written is kept");
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Loaded here, not at the top: listr2 is needed only by commands that run stages (not status, dag, diff).
  const { createListrReporter, formatSeconds } = await import("./reporter.ts");
  const reporter = createListrReporter({ tty: io.tty });
  let summary: RunSummary;
  try {
    summary = await executeStages(session, { ...options, signal: controller.signal, onEvent: reporter.onEvent });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  await reporter.finished();
  const counts = { ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0 };
  for (const outcome of Object.values(summary.outcomes)) {
    counts[outcome.status === "failed" && outcome.failure.reason === "aborted" ? "interrupted" : outcome.status]++;
  }
  io.out(
    `${counts.ran} ran, ${counts.cached} cached, ${counts.failed} failed, ${counts.skipped} skipped` +
      `${counts.interrupted > 0 ? `, ${counts.interrupted} interrupted` : ""} in ${formatSeconds(summary.seconds)}`,
  );
  for (const [name, outcome] of Object.entries(summary.outcomes)) {
    if (outcome.status !== "failed" || outcome.failure.reason === "aborted") continue;
    const text = describeFailure(outcome.failure, verbose).replace("pipeline logs STAGE", `pipeline logs ${name}`);
    io.err(`✖ ${name}: ${text}${outcome.failure.reason === "threw" && !verbose ? " (--verbose for the stack)" : ""}`);
  }
  if (summary.aborted) {
    showCursor(); // listr2's display restores it when it ends normally; make sure after an interruption
    for (const line of interruptionReport(summary.outcomes)) io.err(line);
    return 130;
  }
  return summary.ok ? 0 : 1;
}

/** The progress display hides the terminal's cursor while it redraws. */
function showCursor(): void {
  if (process.stderr.isTTY) process.stderr.write("\u001B[?25h");
}

/** After Ctrl-C: what is kept, what was cut short, and what the next run will do about each. */
export function interruptionReport(outcomes: Readonly<Record<string, StageOutcome>>): string[] {
  const entries = Object.entries(outcomes);
  const finished = entries.filter(([, outcome]) => outcome.status === "ran" || outcome.status === "cached").length;
  const cut = entries.filter(([, outcome]) => outcome.status === "failed" && outcome.failure.reason === "aborted").map(([name]) => name);
  const notStarted = entries.filter(([, outcome]) => outcome.status === "skipped").length;
  const list = (names: string[]): string => (names.length <= 6 ? names.join(", ") : `${names.slice(0, 6).join(", ")} and ${names.length - 6} more`);
  const stages = (count: number): string => `${count} stage${count === 1 ? "" : "s"}`;
  return [
    `pipeline: interrupted ${cut.length === 0 ? "between stages" : `while running ${list(cut)}`}.`,
    `  The next run reuses the ${stages(finished)} that finished` +
      (cut.length > 0 ? `; ${cut.length === 1 ? cut[0] : `the ${cut.length} interrupted ones`} start${cut.length === 1 ? "s" : ""} over from the beginning` : "") +
      (notStarted > 0 ? ` (${stages(notStarted)} had not started)` : "") +
      ".",
  ];
}

function renderPlans(plans: readonly StagePlan[]): string {
  const width = Math.max(0, ...plans.map((plan) => plan.stage.length));
  const lines = plans.map((plan) => {
    if (plan.state === "up-to-date") {
      const where = plan.remote ? ` (in the remote: a pull brings ${plan.remote.files} files, ${(plan.remote.bytes / 2 ** 20).toFixed(1)} MiB)` : plan.restored ? " (from cache)" : "";
      return `  ${plan.stage.padEnd(width)}  up to date ${plan.fingerprint?.slice(0, 10)}${where}`;
    }
    const [first, ...rest] = plan.reasons.map(describeReason);
    return [`✱ ${plan.stage.padEnd(width)}  will run: ${first}`, ...rest.map((reason) => `  ${"".padEnd(width)}            ${reason}`)].join("\n");
  });
  const stale = plans.filter((plan) => plan.state === "will-run").length;
  lines.push(stale === 0 ? "Everything is up to date." : `${stale} of ${plans.length} stages will run.`);
  return lines.join("\n");
}

/** The usage text, with the project's own execution options (e.g. --backend) appended. */
export function usage(executionOptions: readonly ExecutionOption[]): string {
  if (executionOptions.length === 0) return USAGE;
  const width = Math.max(...executionOptions.map((option) => option.name.length + 8));
  const lines = executionOptions.map((option) => {
    const source = option.env ? ` (or ${option.env})` : "";
    const policy = option.policy === "key" ? "part of the cache key of the stages using it" : "recorded; results do not depend on it";
    return `  --${`${option.name} VALUE`.padEnd(width)} ${option.description}${source}; ${policy}`;
  });
  return `${USAGE}\n\nProject options:\n${lines.join("\n")}`;
}

/** `logs STAGE`: the log kept with the stage's current result, else with its last failed attempt. */
async function stageLog<Params>(session: Session<Params>, name: string): Promise<string> {
  session.graph.get(name); // an unknown name is a clear error listing how to find the names
  const plans = await planStages(session, { only: [name] });
  const fingerprints = [plans.find((plan) => plan.stage === name)?.fingerprint, session.lock.stages[name]?.fingerprint].filter((fp): fp is string => fp !== undefined);
  for (const fingerprint of new Set(fingerprints)) {
    const log = await session.store.readLog(name, fingerprint);
    const text = log?.text === "" ? `(${name} wrote nothing to its log)` : log?.text;
    if (log) return log.kind === "failure" ? `(the last attempt, which failed)\n${text}` : text!;
    if ((await session.store.verify(name, fingerprint, { deep: false, refresh: false })).ok) {
      throw new PipelineError("no-log", `${name}'s result has no log: it was made before logs were kept, or fetched from a remote (remotes keep no logs). \`pipeline run --force '${name}'\` remakes it with one`);
    }
  }
  throw new PipelineError("no-log", `no log is kept for ${name} with its current key: run it first (logs are kept from the run that makes a result, or fails to)`);
}

function positiveInteger(flag: string, text: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new PipelineError("invalid-cli", `${flag} expects a ${allowZero ? "non-negative" : "positive"} whole number, got "${text}"`);
  }
  return value;
}

function parseCommandLine(argv: readonly string[], executionOptions: readonly ExecutionOption[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        params: { type: "string" },
        set: { type: "string", short: "S", multiple: true },
        only: { type: "string", multiple: true },
        downstream: { type: "boolean" },
        force: { type: "string", multiple: true },
        "dry-run": { type: "boolean" },
        jobs: { type: "string", short: "j" },
        "keep-going": { type: "boolean" },
        verify: { type: "boolean" },
        wait: { type: "string" },
        json: { type: "boolean" },
        mermaid: { type: "boolean" },
        baseline: { type: "string" },
        md: { type: "boolean" },
        all: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        verbose: { type: "boolean" },
        ...REMOTE_FLAGS,
        ...QUEUE_FLAGS,
        ...Object.fromEntries(executionOptions.map((option) => [option.name, { type: "string" as const }])),
      },
    });
  } catch (error) {
    // node:util's messages are clear ("Unknown option '--jbos'"); they are usage errors, exit 2.
    throw new PipelineError("invalid-cli", `${errorMessage(error)}\n\n${usage(executionOptions)}`);
  }
}
