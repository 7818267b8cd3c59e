import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { RedisServer, redisMissing } from "../helpers/redis-server.ts";

/**
 * `node --import tsx test/bench/distributed.ts --params P [-S PATH=VALUE …] [--workers 2]`: the same
 * profile run twice from empty caches on this machine — locally with `-j N`, then by a coordinator
 * with N single-threaded workers (separate checkouts standing in for machines, a file remote, a
 * Redis of its own) — and the wall time of each, with the coordinator's median overhead per stage.
 * Here the workers cannot gain cores, so the difference is the distributed executor's cost.
 * Each checkout is `git archive HEAD` (commit first) with this project's node_modules linked in.
 */
const { values } = parseArgs({
  options: {
    params: { type: "string" },
    set: { type: "string", short: "S", multiple: true },
    workers: { type: "string" },
    keep: { type: "boolean" },
  },
});
if (!values.params) throw new Error("--params FILE is required (a profile whose local -j 2 run takes minutes, not hours)");
const missing = redisMissing();
if (missing) throw new Error(missing);

const root = resolve(import.meta.dirname, "../..");
const workers = Number(values.workers ?? 2);
const profileArgs = ["--params", values.params, ...(values.set ?? []).flatMap((override) => ["-S", override])];
const base = await mkdtemp(join(tmpdir(), "bench-distributed-"));

async function checkout(name: string): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  execFileSync("bash", ["-c", `git -C '${root}' archive HEAD | tar -x -C '${dir}'`]);
  await symlink(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

function pipeline(dir: string, args: string[], log: string): { child: ChildProcess; done: Promise<number> } {
  const child = spawn(process.execPath, ["pipeline.mjs", ...args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "" } });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
  const done = new Promise<number>((resolveDone) =>
    child.once("exit", (code) => void writeFile(log, output).then(() => resolveDone(code ?? 1))),
  );
  return { child, done };
}

async function timed(label: string, run: () => Promise<number>): Promise<number> {
  const started = performance.now();
  const code = await run();
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${label} exited with ${code}: see ${base}`);
  console.log(`${label}: ${seconds.toFixed(1)} s`);
  return seconds;
}

const localDir = await checkout("local");
const localSeconds = await timed(`local -j ${workers}`, () => pipeline(localDir, [...profileArgs, "-j", String(workers)], join(base, "local.log")).done);

const redis = await RedisServer.start();
const remoteDir = join(base, "remote");
await mkdir(remoteDir);
const remote = pathToFileURL(remoteDir).href;
const workerDirs = await Promise.all(Array.from({ length: workers }, (_, index) => checkout(`worker-${index + 1}`)));
const started = workerDirs.map((dir, index) =>
  pipeline(dir, ["worker", "--queue", redis.url, "--remote", remote, "--concurrency", "1", "--threads", "1"], join(base, `worker-${index + 1}.log`)),
);
const coordinatorDir = await checkout("coordinator");
let distributedSeconds: number;
try {
  distributedSeconds = await timed(`coordinator + ${workers} workers`, () =>
    pipeline(coordinatorDir, ["run", ...profileArgs, "--queue", redis.url, "--remote", remote], join(base, "coordinator.log")).done,
  );
} finally {
  for (const worker of started) worker.child.kill("SIGTERM");
  await Promise.all(started.map((worker) => worker.done));
  await redis.stop();
}
const summary = execFileSync("grep", ["-h", "queue: ", join(base, "coordinator.log")], { encoding: "utf8" }).trim();
console.log(summary);
console.log(`overhead: ${(((distributedSeconds - localSeconds) / localSeconds) * 100).toFixed(1)}% (${(distributedSeconds - localSeconds).toFixed(1)} s)`);
if (values.keep) console.log(`checkouts and logs kept in ${base}`);
else await rm(base, { recursive: true, force: true });
