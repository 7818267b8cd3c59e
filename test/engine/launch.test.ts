import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ToyRig } from "./toy-rig.ts";

/**
 * engine/launch.mjs starts a .ts entry from a cached esbuild bundle. What must hold: the bundle
 * behaves as tsx does (same code fingerprints, so nothing reruns and the lock is byte-identical), an
 * edited source is in the very next start, and what esbuild cannot bundle still runs through tsx.
 */
const LAUNCHER = fileURLToPath(new URL("../../engine/launch.mjs", import.meta.url));

function start(rig: ToyRig, how: "tsx" | "bundle", args: string[]): { code: number | null; stdout: string; stderr: string } {
  const entry = join(rig.dir, "cli.ts");
  const argv = how === "tsx" ? ["--import", "tsx", entry, ...args] : [LAUNCHER, entry, ...args];
  const env = { ...process.env, CI: "true", TS_LAUNCH_DEBUG: "1", TS_LAUNCH_CACHE: join(rig.dir, ".launch-cache") };
  const result = spawnSync(process.execPath, argv, { cwd: rig.dir, env, encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function upperOutput(rig: ToyRig): Promise<string> {
  const lock = JSON.parse(await readFile(join(rig.dir, "pipeline.lock.json"), "utf8"));
  return readFile(join(rig.dir, lock.stages.upper.artifact, "out", "upper.txt"), "utf8");
}

test("a bundled start is a no-op after a tsx run: same code fingerprints, nothing reruns, the lock is unchanged byte for byte", async () => {
  const rig = await ToyRig.create();
  const first = start(rig, "tsx", ["run"]);
  assert.equal(first.code, 0, first.stderr);
  const lock = await readFile(join(rig.dir, "pipeline.lock.json"), "utf8");
  const ran = await rig.invocations();
  assert.equal(ran.upper, 1);

  const bundled = start(rig, "bundle", ["run"]);
  assert.equal(bundled.code, 0, bundled.stderr);
  assert.match(bundled.stderr, /ts-launch: rebuilt cli\.ts/, "a new entry is bundled on its first start");
  assert.match(bundled.stdout + bundled.stderr, /0 ran, \d+ cached, 0 failed/);
  assert.deepEqual(await rig.invocations(), ran);
  assert.equal(await readFile(join(rig.dir, "pipeline.lock.json"), "utf8"), lock);

  const again = start(rig, "bundle", ["status", "--json"]);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /rebuilt/, "an unchanged entry starts from the cached bundle");
  assert.equal(again.stdout, start(rig, "tsx", ["status", "--json"]).stdout);
});

test("an edited source is in the next bundled start: run → 1, rerun → still 1, edit the stage → 2 with the new code's output", async () => {
  const rig = await ToyRig.create();
  assert.equal(start(rig, "bundle", ["run"]).code, 0);
  assert.equal(start(rig, "bundle", ["run"]).code, 0);
  assert.equal((await rig.invocations()).upper, 1);
  assert.equal(await upperOutput(rig), "THE CAT SAT ON THE MAT!");

  // upper runs inline, in the launched process: its new output can only come from a rebuilt bundle.
  await rig.editFile("stages/upper.ts", (text) => text.replace('context.param<string>("upper.suffix"))', 'context.param<string>("upper.suffix") + "?")'));
  const edited = start(rig, "bundle", ["run"]);
  assert.equal(edited.code, 0, edited.stderr);
  assert.match(edited.stderr, /ts-launch: rebuilt cli\.ts/);
  assert.equal((await rig.invocations()).upper, 2);
  assert.equal(await upperOutput(rig), "THE CAT SAT ON THE MAT!?");
});

test("a source esbuild cannot compile runs through tsx, which reports the error as a tsx start would; fixed, the bundle is back", async () => {
  const rig = await ToyRig.create();
  let original = "";
  await rig.editFile("stages/upper.ts", (text) => {
    original = text;
    return text.replace("export const upper", "export const upper = ;\nconst unused");
  });
  const viaTsx = start(rig, "tsx", ["run"]);
  const bundled = start(rig, "bundle", ["run"]);
  assert.notEqual(viaTsx.code, 0);
  assert.equal(bundled.code, viaTsx.code);
  assert.match(bundled.stderr, /ts-launch: no bundle, running through tsx/);
  assert.match(bundled.stderr, /upper\.ts/);
  assert.match(viaTsx.stderr, /upper\.ts/);

  await rig.editFile("stages/upper.ts", () => original);
  const fixed = start(rig, "bundle", ["run"]);
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.match(fixed.stderr, /ts-launch: rebuilt cli\.ts/);
});
