/**
 * The pipeline against an S3-compatible server (s3rver on loopback, behind a fault proxy): two
 * clones share results through it, and a failing, slow or half-written remote never fails a run or
 * leaves a result anyone would trust.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { openRemote } from "../../engine/open-remote.ts";
import { FaultProxy } from "../helpers/fault-proxy.ts";
import { S3_SERVER_PACKAGE, s3ServerMissing, startS3Server, type S3TestServer } from "../helpers/s3-server.ts";
import { ToyRig } from "./toy-rig.ts";

const missing = s3ServerMissing();
if (missing !== undefined && process.env.CI === "true") {
  test(`the S3 pipeline tests need ${S3_SERVER_PACKAGE} under CI=true`, () => assert.fail(missing));
}

describe("pipeline with an S3 remote", { skip: missing }, () => {
  let server: S3TestServer;
  let proxy: FaultProxy;
  let prefix = 0;
  /** Each test its own prefix in the bucket: a fresh, empty remote. */
  const freshRemote = () => `s3://${server.bucket}/run-${++prefix}`;
  const env = () => ({ ...server.env, AWS_ENDPOINT_URL_S3: proxy.endpoint });
  const cli = (rig: ToyRig, args: string[]) => rig.spawnCli([...args, "--remote-path-style"], env());

  before(async () => {
    server = await startS3Server();
    proxy = await FaultProxy.start(server.endpoint);
  });
  after(async () => {
    await proxy?.stop();
    await server?.stop();
  });

  test("clone A runs with --push; a fresh clone B runs the same profile and runs nothing, its lock equal to A's", async () => {
    const url = freshRemote();
    const [a, b] = [await ToyRig.create(), await ToyRig.create()];
    const pushed = await cli(a, ["run", "--remote", url, "--push"]).done;
    assert.equal(pushed.code, 0, pushed.stderr);
    // s3rver ignores If-None-Match (see test/helpers/s3-server.ts): the one warning allowed says so.
    const warnings = pushed.stderr.split("\n").filter((line) => /warning/.test(line));
    assert.ok(warnings.every((line) => /ignores If-None-Match/.test(line)), warnings.join("\n"));
    const run = await cli(b, ["run", "--remote", url, "--remote-read-only"]).done;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await b.invocations(), {});
    const lock = async (rig: ToyRig) => Object.fromEntries(Object.entries((await (await rig.session()).lock).stages).map(([name, entry]) => [name, entry.outputs.outputHash]));
    assert.deepEqual(await lock(b), await lock(a));
  });

  test("500s on every request, or a server that never answers: a warning, the stages run here, the run succeeds", async (t) => {
    const url = freshRemote();
    const a = await ToyRig.create();
    assert.equal((await cli(a, ["run", "--remote", url, "--push"]).done).code, 0);
    for (const [name, fault] of [
      ["500", { kind: "status", status: 500 }],
      ["hang", { kind: "hang" }],
    ] as const) {
      await t.test(name, async () => {
        const b = await ToyRig.create();
        proxy.addFault({ fault });
        try {
          const started = performance.now();
          const run = await cli(b, ["run", "--remote", url, "--remote-read-only", "--remote-timeout", "1"]).done;
          const seconds = (performance.now() - started) / 1000;
          assert.equal(run.code, 0, run.stderr);
          assert.match(run.stderr, /warning: .*remote/);
          assert.equal((await b.invocations()).upper, 1, "the stages ran here");
          // One outage costs one request's timeout and retries, not one per stage.
          assert.ok(seconds < 30, `took ${seconds.toFixed(1)} s`);
        } finally {
          proxy.clearFaults();
        }
      });
    }
  });

  test("a push killed with kill -9 halfway leaves no visible record", async () => {
    const url = freshRemote();
    const a = await ToyRig.create();
    assert.equal((await a.spawnCli(["run"]).done).code, 0);
    // Blob uploads crawl; the first record would come only after all of a result's blobs.
    proxy.addFault({ method: "PUT", path: "/blobs/", fault: { kind: "delay", ms: 8_000 } });
    try {
      const { child, done } = cli(a, ["push", "--remote", url]);
      // The proxy logs a request once answered: the first blob's HEAD (not delayed) comes just before its PUT.
      const blobChecked = () => proxy.requests.some((request) => request.method === "HEAD" && request.path.includes(`/run-${prefix}/blobs/`));
      for (let i = 0; i < 400 && !blobChecked(); i++) await sleep(50);
      assert.ok(blobChecked(), "the push reached its first blob");
      await sleep(500); // its upload is now in flight, held by the proxy
      child.kill("SIGKILL");
      await done;
    } finally {
      proxy.clearFaults();
    }
    Object.assign(process.env, env());
    const remote = await openRemote(url, { forcePathStyle: true, readOnly: true });
    const records: string[] = [];
    for await (const record of remote.listRecords()) records.push(record.stage);
    assert.deepEqual(records, [], "no record is visible");
    const b = await ToyRig.create();
    const run = await cli(b, ["run", "--remote", url, "--remote-read-only"]).done;
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await b.invocations()).upper, 1, "B made its own results");
  });
});
