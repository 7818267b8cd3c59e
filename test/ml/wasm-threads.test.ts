/**
 * The threaded wasm build under Node (ml/wasm/threads.ts): it starts, really uses the threads it
 * is given, lets its process exit on its own, and trains bit for bit the same weights as the
 * single-threaded build, so the thread count can stay out of every cache key.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { stageThreadsFromEnv } from "../../ml/wasm/threads.ts";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./fixtures/train-once.ts", import.meta.url));
const DETAILS_CHILD = fileURLToPath(new URL("./fixtures/backend-details.ts", import.meta.url));

interface ChildResult {
  threads: number;
  multithread: boolean;
  loss: number;
  weights: string;
}

async function trainWith(threads: number): Promise<ChildResult> {
  // A timeout, so a pool worker keeping the process alive fails the test instead of hanging it.
  const { stdout } = await run(process.execPath, ["--import", "tsx", CHILD], {
    env: { ...process.env, PIPELINE_STAGE_THREADS: String(threads) },
    timeout: 240_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ChildResult;
}

test("training with 2 wasm threads gives the same weights, bit for bit, as with 1", async () => {
  const one = await trainWith(1);
  const two = await trainWith(2);
  assert.equal(one.threads, 1);
  assert.equal(one.multithread, false);
  assert.equal(two.threads, 2, "the threaded build started with 2 threads");
  assert.equal(two.multithread, true);
  assert.ok(Number.isFinite(one.loss) && one.loss > 0 && one.loss < 2.3, `trained: loss ${one.loss}`);
  assert.equal(two.loss, one.loss);
  assert.equal(two.weights, one.weights);
});

test("without a writable temp dir for the worker script, wasm falls back to one thread and says why", async () => {
  // A temp "dir" under a regular file: not creatable, even for root.
  const file = join(await mkdtemp(join(tmpdir(), "wasm-threads-")), "a-file");
  await writeFile(file, "");
  const { stdout } = await run(process.execPath, ["--import", "tsx", DETAILS_CHILD], {
    env: { ...process.env, PIPELINE_STAGE_THREADS: "2", WORKER_TMPDIR: join(file, "tmp") },
    timeout: 120_000,
  }).finally(() => rm(dirname(file), { recursive: true, force: true }));
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as { backend: string; details: Record<string, unknown>; gradientSum: number };
  assert.equal(result.backend, "wasm");
  assert.equal(result.details["threads"], 1);
  assert.equal(result.details["multithread"], false);
  assert.match(String(result.details["threadsUnavailable"]), /ENOTDIR/);
  // Every in-bounds (output, tap) pair of a 3×3 'same' conv on 8×8: 22² per image and filter; 2 images, 4 filters.
  assert.equal(result.gradientSum, 2 * 4 * 22 * 22, "the single-threaded fallback computes");
});

test("PIPELINE_STAGE_THREADS must be a positive integer", () => {
  assert.equal(stageThreadsFromEnv({}), 1);
  assert.equal(stageThreadsFromEnv({ PIPELINE_STAGE_THREADS: "3" }), 3);
  for (const bad of ["0", "-1", "1.5", "two"]) {
    assert.throws(() => stageThreadsFromEnv({ PIPELINE_STAGE_THREADS: bad }), /PIPELINE_STAGE_THREADS must be a positive integer, got "/);
  }
});

test("a bad PIPELINE_STAGE_THREADS is an error, not a reason for auto to skip wasm", async () => {
  const { selectBackend } = await import("../../ml/backend.ts");
  const saved = process.env.PIPELINE_STAGE_THREADS;
  process.env.PIPELINE_STAGE_THREADS = "two";
  try {
    await assert.rejects(selectBackend("auto"), /PIPELINE_STAGE_THREADS must be a positive integer, got "two"/);
  } finally {
    if (saved === undefined) delete process.env.PIPELINE_STAGE_THREADS;
    else process.env.PIPELINE_STAGE_THREADS = saved;
  }
});
