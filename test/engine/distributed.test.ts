/**
 * Distributed runs with a real Redis: a coordinator (`run --queue`) and workers (`worker`), each a
 * separate process in its own checkout of the toy project (standing in for machines), exchanging
 * results only through a shared file remote. Each test starts its own Redis on a free loopback port.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, test } from "node:test";
import { executeStages, type RunEvent } from "../../engine/executor.ts";
import { FileRemoteCache } from "../../engine/file-remote-cache.ts";
import { QueueRunner } from "../../engine/queue-runner.ts";
import { Session } from "../../engine/session.ts";
import { parseQueueUrl } from "../../engine/stage-queue.ts";
import type { StageJob } from "../../engine/stage-job.ts";
import type { RunnerContext } from "../../engine/stage-runner.ts";
import { REDIS_PACKAGE, RedisServer, redisMissing } from "../helpers/redis-server.ts";
import { tinyWorkDir } from "../helpers/tiny-profile.ts";
import { ToyRig } from "./toy-rig.ts";

const missing = redisMissing();
if (missing !== undefined && process.env.CI === "true") {
  test(`the distributed-run tests need ${REDIS_PACKAGE} under CI=true`, () => assert.fail(missing));
}

/** A CLI process whose output can be awaited line by line. */
class Cli {
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly rig: ToyRig,
    readonly child: ChildProcess,
  ) {
    child.stdout!.on("data", (chunk: Buffer) => (this.stdout += chunk));
    child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  }

  static spawn(rig: ToyRig, args: string[]): Cli {
    const child = spawn(process.execPath, ["--import", "tsx", join(rig.dir, "cli.ts"), ...args], { cwd: rig.dir, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
    return new Cli(rig, child);
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  /** Resolves once the output matches; fails after `seconds` with what was printed. */
  async waitFor(pattern: RegExp, seconds = 60): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (!pattern.test(this.output)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${seconds}s; output:\n${this.output}`);
      if (this.child.exitCode !== null) throw new Error(`exited (${this.child.exitCode}) before ${pattern}; output:\n${this.output}`);
      await sleep(50);
    }
  }

  async result(): Promise<{ code: number | null; output: string }> {
    const { code } = await this.exited;
    return { code, output: this.output };
  }
}

/** What a lock says about results, leaving out when, where and how long. */
function results(lock: { stages: Record<string, Record<string, unknown>> }): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(lock.stages).map(([name, entry]) => [name, { fingerprint: entry.fingerprint, outputs: entry.outputs, inputs: entry.inputs, params: entry.params, code: entry.code, metrics: entry.metrics }]),
  );
}

async function readLock(rig: ToyRig): Promise<{ stages: Record<string, any> }> {
  return JSON.parse(await readFile(join(rig.dir, "pipeline.lock.json"), "utf8"));
}

/** Stage → how many times it started, summed over checkouts. */
async function invocations(rigs: readonly ToyRig[]): Promise<Record<string, number>> {
  const total: Record<string, number> = {};
  for (const rig of rigs) for (const [stage, count] of Object.entries(await rig.invocations())) total[stage] = (total[stage] ?? 0) + count;
  return total;
}

/** Which checkout's log shows `stage` running right now (started, not ended). */
async function runningIn(rigs: readonly ToyRig[], stage: string, seconds = 60): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    for (const [index, rig] of rigs.entries()) {
      const span = (await rig.intervals())[stage];
      if (span && span.end === undefined) return index;
    }
    if (Date.now() > deadline) throw new Error(`${stage} did not start within ${seconds}s`);
    await sleep(50);
  }
}

describe("distributed runs on BullMQ and Redis", { skip: missing }, () => {
  let redis: RedisServer;
  let remoteDir: string;
  let remote: string;
  const processes: Cli[] = [];

  beforeEach(async () => {
    redis = await RedisServer.start();
    remoteDir = await tinyWorkDir("remote-");
    remote = pathToFileURL(remoteDir).href;
  });

  afterEach(async () => {
    for (const cli of processes.splice(0)) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill("SIGKILL");
    await redis.stop();
  });

  const cli = (rig: ToyRig, args: string[]): Cli => {
    const started = Cli.spawn(rig, args);
    processes.push(started);
    return started;
  };

  /** A worker in a fresh checkout, ready for jobs. */
  const startWorker = async (extra: string[] = [], prepare?: (rig: ToyRig) => Promise<void>): Promise<Cli & { name: string }> => {
    const rig = await ToyRig.create();
    await prepare?.(rig);
    const worker = cli(rig, ["worker", "--queue", redis.url, "--remote", remote, "--stall-timeout", "2", ...extra]);
    await worker.waitFor(/waiting for stages/);
    return Object.assign(worker, { name: `${hostname()}:${worker.child.pid}` });
  };

  const coordinate = (rig: ToyRig, args: string[] = []): Cli => cli(rig, ["run", "--queue", redis.url, "--remote", remote, ...args]);

  test("a coordinator and three workers produce the lock and results of a local run; the run records name the workers", async () => {
    const local = await ToyRig.create();
    assert.equal((await local.run({ jobs: 2, overrides: ["side.sleepMs=300"] })).ok, true);
    const workers = await Promise.all([startWorker(), startWorker(), startWorker()]);
    const coordinator = await ToyRig.create();

    const run = await coordinate(coordinator, ["-S", "side.sleepMs=300"]).result();
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /6 ran, 0 cached/);
    assert.match(run.output, /queue: 6 jobs on [1-3] workers?; median per stage/);

    const lock = await readLock(coordinator);
    assert.deepEqual(results(lock), results(await readLock(local)));
    const names = new Set(workers.map((worker) => worker.name));
    for (const [stage, entry] of Object.entries(lock.stages)) assert.ok(names.has(entry.environment.runner), `${stage} ran on ${entry.environment.runner}, not one of the workers`);
    assert.deepEqual(await coordinator.invocations(), {}, "nothing ran in the coordinator's checkout");
    assert.deepEqual(await invocations(workers.map((worker) => worker.rig)), { source: 1, upper: 1, "count@at": 1, "count@the": 1, side: 1, summary: 1 });
    // The coordinator pulled every result (verified): a plain local run now has nothing to do.
    const again = await coordinator.run({ overrides: ["side.sleepMs=300"] });
    assert.ok(Object.values(again.outcomes).every((outcome) => outcome.status === "cached"), JSON.stringify(again.outcomes));

    for (const worker of workers) worker.child.kill("SIGTERM");
    for (const worker of workers) {
      const stopped = await worker.result();
      assert.equal(stopped.code, 0, stopped.output);
      assert.match(stopped.output, /stopped/);
    }
  });

  test("kill -9 of a worker mid-stage: the job runs again on another worker and the result equals a local run's", async () => {
    const local = await ToyRig.create();
    assert.equal((await local.run({ overrides: ["side.sleepMs=3000"] })).ok, true);
    const workers = [await startWorker(), await startWorker()];
    const coordinator = await ToyRig.create();
    const run = coordinate(coordinator, ["-S", "side.sleepMs=3000"]);
    const victim = await runningIn(workers.map((worker) => worker.rig), "side");
    workers[victim]!.child.kill("SIGKILL");
    const survivor = workers[1 - victim]!;

    const finished = await run.result();
    assert.equal(finished.code, 0, finished.output);
    const lock = await readLock(coordinator);
    assert.equal(lock.stages.side.environment.runner, survivor.name);
    assert.deepEqual(lock.stages.side.outputs, (await readLock(local)).stages.side.outputs);
    assert.equal((await survivor.rig.invocations()).side, 1, "the survivor ran side once");
    assert.equal((await invocations(workers.map((worker) => worker.rig))).side, 2, "side started twice in all: killed, then again");
  });

  test("a worker whose checkout has an edited file refuses the job and says which file", async () => {
    const worker = await startWorker([], (rig) => rig.editFile("stages/upper.ts", (text) => text.replace("text.toUpperCase()", "text.toUpperCase().trim()")));
    const coordinator = await ToyRig.create();
    const run = await coordinate(coordinator).result();
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /✖ upper: this checkout's code differs from the job's: stages\/upper\.ts/);
    assert.match(worker.output, /upper \([0-9a-f]{10}\): refused: this checkout's code differs from the job's: stages\/upper\.ts/);
    assert.equal((await worker.rig.invocations()).upper, undefined, "the edited code never ran");
    assert.equal((await worker.rig.invocations()).source, 1, "a stage whose code matches ran");
  });

  test("a stage that throws fails once: it is not retried", async () => {
    const worker = await startWorker();
    const run = await coordinate(await ToyRig.create(), ["-S", "side.fail=true", "--keep-going"]).result();
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /✖ side: side was told to fail/);
    await sleep(1000); // a retry would start within the backoff's first step (5 s) — none may
    assert.equal((await worker.rig.invocations()).side, 1);
    assert.match(run.output, /4 ran, 0 cached, 1 failed, 1 skipped/);
  });

  test("a stage process killed from outside (as the OOM killer would) is retried after a backoff", async () => {
    const worker = await startWorker();
    const run = coordinate(await ToyRig.create(), ["-S", "side.sleepMs=2000"]);
    await runningIn([worker.rig], "side");
    const log = await readFile(join(worker.rig.dir, "invocations.log"), "utf8");
    const stagePid = Number(/^side start \S+ (\d+)$/m.exec(log)![1]);
    assert.notEqual(stagePid, worker.child.pid, "the stage runs in a child process of the worker");
    process.kill(stagePid, "SIGKILL");
    const finished = await run.result();
    assert.equal(finished.code, 0, finished.output);
    assert.match(worker.output, /side \([0-9a-f]{10}\): failed: its process was killed by SIGKILL.* \(will be retried\)/);
    assert.equal((await worker.rig.invocations()).side, 2, "side ran again after the backoff");
  });

  test("SIGTERM on a worker hands its running stage back within the drain timeout; another worker finishes it", async () => {
    const first = await startWorker(["--drain-timeout", "1"]);
    const run = coordinate(await ToyRig.create(), ["-S", "side.sleepMs=4000"]);
    await runningIn([first.rig], "side");
    const second = await startWorker();
    const signalled = Date.now();
    first.child.kill("SIGTERM");
    const stopped = await first.result();
    assert.equal(stopped.code, 0, stopped.output);
    assert.ok(Date.now() - signalled < 8000, `the worker took ${Date.now() - signalled} ms to stop`);
    assert.match(stopped.output, /side \([0-9a-f]{10}\): handed back to the queue/);
    const finished = await run.result();
    assert.equal(finished.code, 0, finished.output);
    assert.equal((await second.rig.invocations()).side, 1, "the second worker ran side");
    assert.equal((await readLock(run.rig)).stages.side.environment.runner, second.name);
  });

  test("Redis restarted mid-run: the coordinator says so clearly, and a rerun completes", async () => {
    const worker = await startWorker();
    const coordinator = await ToyRig.create();
    const run = coordinate(coordinator, ["-S", "side.sleepMs=3000"]);
    await runningIn([worker.rig], "side");
    await redis.restart();
    const failed = await run.result();
    assert.equal(failed.code, 1, failed.output);
    assert.match(failed.output, /Redis at redis:\/\/127\.0\.0\.1:\d+ no longer knows this stage's job \(restarted without persistence/);

    const rerun = await coordinate(coordinator, ["-S", "side.sleepMs=3000"]).result();
    assert.equal(rerun.code, 0, rerun.output);
    assert.match(rerun.output, /0 failed/);
    assert.ok(worker.child.exitCode === null, "the worker survived the restart");
  });

  test("Redis gone for good: the waiting stages fail saying so, and the coordinator closes", async () => {
    const coordinator = await ToyRig.create();
    const session = await Session.open(coordinator.project, { remote: { cache: await FileRemoteCache.open(remoteDir), push: false, warn: () => {} } });
    const runner = await QueueRunner.connect({ address: parseQueueUrl(redis.url), local: session.local, remote: await FileRemoteCache.open(remoteDir), pollMs: 500, unreachableMs: 2000 });
    const running = executeStages(session, { jobs: 10, runnerFor: () => runner }); // no worker: the jobs wait
    await sleep(500);
    await redis.stop();
    const summary = await running;
    assert.equal(summary.outcomes.side?.status, "failed");
    const failure = summary.outcomes.side?.status === "failed" ? summary.outcomes.side.failure : undefined;
    assert.equal(failure?.reason, "lost-worker");
    assert.match(failure?.reason === "lost-worker" ? failure.detail : "", /lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED [^)]*\) for \d+ s; .*run again once Redis is back/);
    const closing = performance.now();
    await runner.close(); // BullMQ's own close would wait for Redis forever
    assert.ok(performance.now() - closing < 6000, `close took ${performance.now() - closing} ms`);
  });

  test("the coordinator killed: a new one picks up what finished from the remote and joins the job still running", async () => {
    const worker = await startWorker();
    const coordinator = await ToyRig.create();
    const first = coordinate(coordinator, ["-S", "side.sleepMs=3000"]);
    await runningIn([worker.rig], "side");
    first.child.kill("SIGKILL");
    await first.exited;

    const second = await coordinate(coordinator, ["-S", "side.sleepMs=3000"]).result();
    assert.equal(second.code, 0, second.output);
    assert.deepEqual(await worker.rig.invocations(), { source: 1, upper: 1, "count@at": 1, "count@the": 1, side: 1, summary: 1 }, "nothing ran twice");
    assert.equal((await readLock(coordinator)).stages.side.environment.runner, worker.name);
  });

  test("a light stage edited under a running worker runs the edited code (in a child process), not the code the worker loaded", async () => {
    const worker = await startWorker();
    const coordinator = await ToyRig.create();
    const edit = (rig: ToyRig) => rig.editFile("stages/upper.ts", (text) => text.replace('+ context.param<string>("upper.suffix"))', '+ context.param<string>("upper.suffix") + " (edited)")'));
    await edit(worker.rig);
    await edit(coordinator);
    const run = await coordinate(coordinator).result();
    assert.equal(run.code, 0, run.output);
    const upper = (await readLock(coordinator)).stages.upper;
    assert.equal(upper.environment.runner, worker.name);
    assert.match(await readFile(join(coordinator.dir, upper.artifact, "out", "upper.txt"), "utf8"), /\(edited\)$/);
    worker.child.kill("SIGTERM");
    assert.equal((await worker.result()).code, 0);
  });

  test("a worker takes the waiting job with the longest critical path first, not the oldest", async () => {
    const coordinator = await ToyRig.create();
    const session = await Session.open(coordinator.project, { remote: { cache: await FileRemoteCache.open(remoteDir), push: false, warn: () => {} } });
    const runner = await QueueRunner.connect({ address: parseQueueUrl(redis.url), local: session.local, remote: await FileRemoteCache.open(remoteDir) });
    // With no lock the executor asks in declaration order (source before side); give side the
    // longer critical path, as a long stage that became ready later would have.
    const prioritising = { name: runner.name, run: (job: StageJob, context: RunnerContext) => runner.run(job, { ...context, criticalPathSeconds: job.stage === "side" ? 600 : 1 }) };
    try {
      const running = executeStages(session, { jobs: 10, runnerFor: () => prioritising });
      await sleep(1000); // both wait in the queue: no worker yet
      const worker = await startWorker(["--concurrency", "1"]);
      assert.equal((await running).ok, true);
      const spans = await worker.rig.intervals();
      assert.ok(spans.side!.start < spans.source!.start, `side started at ${spans.side!.start}, source at ${spans.source!.start}`);
    } finally {
      await runner.close();
    }
  });

  test("status --queue lists queued and running jobs; progress reaches the coordinator with the worker's name", async () => {
    const progressEdit = (rig: ToyRig) => rig.editFile("stages/side.ts", (text) => text.replace('logInvocation(context.name, "start");', 'logInvocation(context.name, "start");\n    context.progress({ text: "epoch 1/2 · loss 0.5", fraction: 0.5 });'));
    const coordinator = await ToyRig.create();
    await progressEdit(coordinator);
    const address = parseQueueUrl(redis.url);
    const session = await Session.open(coordinator.project, { overrides: ["side.sleepMs=6000"], remote: { cache: await FileRemoteCache.open(remoteDir), push: false, warn: () => {} } });
    const runner = await QueueRunner.connect({ address, local: session.local, remote: await FileRemoteCache.open(remoteDir) });
    const events: RunEvent[] = [];
    let worker: Awaited<ReturnType<typeof startWorker>>;
    let summary;
    try {
      const running = executeStages(session, { jobs: 10, runnerFor: () => runner, onEvent: (event) => events.push(event) });
      await sleep(1000); // no worker yet: source and side wait in the queue
      const queued = await cli(coordinator, ["status", "--queue", redis.url, "-S", "side.sleepMs=6000"]).result();
      assert.match(queued.output, /Queue redis:\/\/127\.0\.0\.1:\d+: 0 running, 2 waiting/);
      assert.match(queued.output, /side\s+queued/);

      worker = await startWorker(["--concurrency", "2"], progressEdit);
      await runningIn([worker.rig], "side");
      // The stage reports progress after it logs its start, and the worker forwards it to Redis
      // asynchronously: ask again until it shows (side sleeps 6 s, so it is still running).
      const expected = new RegExp(`side\\s+running on ${worker.name} [0-9a-f]{10} · epoch 1/2 · loss 0\\.5`);
      let busy = await cli(coordinator, ["status", "--queue", redis.url, "-S", "side.sleepMs=6000"]).result();
      for (let attempt = 0; attempt < 8 && !expected.test(busy.output); attempt++) {
        await sleep(250);
        busy = await cli(coordinator, ["status", "--queue", redis.url, "-S", "side.sleepMs=6000"]).result();
      }
      assert.match(busy.output, expected);
      summary = await running;
    } finally {
      await runner.close();
    }
    assert.equal(summary.ok, true, JSON.stringify(summary.outcomes));
    const texts = events.flatMap((event) => (event.type === "progress" && event.stage === "side" ? [event.progress.text] : []));
    assert.ok(texts.includes(`epoch 1/2 · loss 0.5 · ${worker.name}`), texts.join("\n"));
  });
});
