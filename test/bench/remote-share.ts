import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { s3ServerMissing, startS3Server } from "../helpers/s3-server.ts";

/**
 * `node --import tsx test/bench/remote-share.ts [--params P]`: what sharing a profile's results
 * through an S3 remote costs. An S3-compatible server (s3rver) on loopback; `push` from this
 * checkout (its results must be built: run the profile first); then in a fresh clone of HEAD
 * (node_modules linked, nothing under artifacts/): `run --remote-read-only` (must train nothing),
 * `pull`, and a plain no-op `run`. Prints each command's wall time and its summary lines.
 */
const { values } = parseArgs({ options: { params: { type: "string" }, keep: { type: "boolean" } } });
const missing = s3ServerMissing();
if (missing) throw new Error(missing);

const root = resolve(import.meta.dirname, "../..");
const profile = values.params ? ["--params", values.params] : [];
const server = await startS3Server({ bucket: "pipeline-cache" });
const remote = `s3://${server.bucket}/share-bench`;
const env = { ...process.env, ...server.env, CI: "" };

async function timed(label: string, cwd: string, args: string[]): Promise<string> {
  const started = performance.now();
  const child = spawn(process.execPath, ["pipeline.mjs", ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  const code = await new Promise<number>((done) => child.once("exit", (exit) => done(exit ?? 1)));
  const seconds = (performance.now() - started) / 1000;
  const summary = output.split("\n").filter((line) => /\b(pushed|pulled|ran, \d+ cached|up to date|results?)\b/.test(line) && !line.startsWith("›"));
  console.log(`${label}: exit ${code}, ${seconds.toFixed(1)} s\n  ${summary.slice(-4).join("\n  ")}`);
  if (code !== 0) throw new Error(`${label} failed:\n${output.slice(-3000)}`);
  return output;
}

const clone = await mkdtemp(join(tmpdir(), "share-clone-"));
try {
  await timed("push (this checkout)", root, ["push", ...profile, "--remote", remote]);
  execFileSync("git", ["clone", "--quiet", root, clone]);
  await symlink(join(root, "node_modules"), join(clone, "node_modules"));
  await timed("fresh clone: run --remote-read-only", clone, ["run", ...profile, "--remote", remote, "--remote-read-only"]);
  await timed("fresh clone: pull", clone, ["pull", ...profile, "--remote", remote]);
  await timed("fresh clone: run (no remote)", clone, ["run", ...profile]);
  console.log(`remote size on disk: ${execFileSync("du", ["-sh", server.dataDir], { encoding: "utf8" }).split("\t")[0]}`);
} finally {
  await server.stop();
  if (values.keep) console.log(`clone kept in ${clone}`);
  else await rm(clone, { recursive: true, force: true });
}
