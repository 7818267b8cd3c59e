/**
 * One contract for every remote cache backend — a directory (file://) and S3 (s3://, against
 * s3rver on a loopback port, through a pass-through fault proxy so tests can see what was sent) —
 * then what only one of them has: timeouts, checksums and conditional writes for S3, races between
 * processes for the directory.
 *
 * Conditional writes: no S3-compatible server installable here honours `If-None-Match: *` on PUT
 * (s3rver ignores it; MinIO is in neither npm nor Debian; Debian's radosgw 16 needs a RADOS
 * cluster). So the put-if-absent race is tested for real against the directory backend (separate
 * processes) and, for S3, against s3rver's ignore-and-overwrite (the fallback) and against the
 * fault proxy's emulation of S3's 412 (the client's conditional path).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PipelineError } from "../../engine/errors.ts";
import { openRemote, parseRemoteUrl, type RemoteOptions } from "../../engine/open-remote.ts";
import type { RemoteCache, RemoteRecord } from "../../engine/remote-cache.ts";
import { RemoteCacheError } from "../../engine/remote-cache-error.ts";
import { S3RemoteCache } from "../../engine/s3-remote-cache.ts";
import { FaultProxy } from "../helpers/fault-proxy.ts";
import { S3_SERVER_PACKAGE, s3ServerMissing, startS3Server, type S3TestServer } from "../helpers/s3-server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// --- fixtures -------------------------------------------------------------------------------------

function digest(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function fingerprint(label: string): string {
  return digest(Buffer.from(label));
}

function makeRecord(stage: string, fp: string, outputHash: string, note = ""): RemoteRecord {
  return {
    schema: 1,
    stage,
    fingerprint: fp,
    manifest: { schema: 1, stage, fingerprint: fp, files: { "out.txt": { size: 2, sha256: digest(Buffer.from("hi")) } }, outputHash },
    run: {
      schema: 1,
      startedAt: "2026-01-01T00:00:00.000Z",
      durationSeconds: 1,
      environment: {},
      execution: {},
      load: { concurrentStages: 0, loadAverage: 0 },
      measurements: { note },
    },
  };
}

const scratch = await mkdtemp(join(tmpdir(), "remote-contract-"));
after(() => rm(scratch, { recursive: true, force: true }));

async function localFile(bytes: Uint8Array): Promise<{ path: string; sha256: string; size: number }> {
  const path = join(scratch, `file-${randomBytes(6).toString("hex")}`);
  await writeFile(path, bytes);
  return { path, sha256: digest(bytes), size: bytes.length };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function rejectsWith(promise: Promise<unknown>, reason: RemoteCacheError["reason"], pattern?: RegExp): Promise<RemoteCacheError> {
  const error = await promise.then(
    () => assert.fail(`expected a RemoteCacheError (${reason})`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof RemoteCacheError, `a RemoteCacheError, not ${String(error)}`);
  assert.equal(error.reason, reason, error.message);
  if (pattern) assert.match(error.message, pattern);
  return error;
}

function close(remote: RemoteCache): void {
  if (remote instanceof S3RemoteCache) remote.close();
}

// --- backends ---------------------------------------------------------------------------------------

/** A fresh, empty remote, another handle on the same storage, and a way to plant raw bytes in it. */
interface Fresh {
  remote: RemoteCache;
  reopen(options?: RemoteOptions): Promise<RemoteCache>;
  writeRaw(key: string, body: string): Promise<void>;
}

interface Backend {
  name: string;
  skip: string | undefined;
  fresh(options?: RemoteOptions): Promise<Fresh>;
}

const s3Missing = s3ServerMissing();
if (s3Missing !== undefined && process.env.CI === "true") {
  test(`S3 contract needs ${S3_SERVER_PACKAGE} under CI=true`, () => {
    assert.fail(`${s3Missing} (the S3 tests only skip outside CI)`);
  });
}

let server: S3TestServer | undefined;
let proxy: FaultProxy | undefined;
const opened: RemoteCache[] = [];

before(async () => {
  if (s3Missing !== undefined) return;
  server = await startS3Server();
  proxy = await FaultProxy.start(server.endpoint);
  // The SDK's standard chain reads these; tests that need others set and restore them.
  Object.assign(process.env, { ...server.env, AWS_ENDPOINT_URL_S3: proxy.endpoint });
  delete process.env.AWS_PROFILE;
});
after(async () => {
  for (const remote of opened) close(remote);
  await proxy?.stop();
  await server?.stop();
});

async function track(remote: Promise<RemoteCache>): Promise<RemoteCache> {
  const value = await remote;
  opened.push(value);
  return value;
}

function s3Options(options: RemoteOptions = {}): RemoteOptions {
  return { forcePathStyle: true, requestTimeoutMs: 10_000, ...options };
}

const fileBackend: Backend = {
  name: "file://",
  skip: undefined,
  async fresh(options = {}) {
    const root = await mkdtemp(join(scratch, "file-remote-"));
    const url = pathToFileURL(root).href;
    return {
      remote: await openRemote(url, options),
      reopen: (more = {}) => openRemote(url, more),
      writeRaw: async (key, body) => {
        await mkdir(join(root, ...key.split("/").slice(0, -1)), { recursive: true });
        await writeFile(join(root, ...key.split("/")), body);
      },
    };
  },
};

const s3Backend: Backend = {
  name: "s3:// (s3rver)",
  skip: s3Missing,
  async fresh(options = {}) {
    const prefix = `contract/${randomBytes(4).toString("hex")}`;
    const url = `s3://${server!.bucket}/${prefix}`;
    return {
      remote: await track(openRemote(url, s3Options(options))),
      reopen: (more = {}) => track(openRemote(url, s3Options(more))),
      writeRaw: async (key, body) => {
        const raw = new S3Client({ endpoint: server!.endpoint, region: "us-east-1", forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED" });
        await raw.send(new PutObjectCommand({ Bucket: server!.bucket, Key: `${prefix}/${key}`, Body: body }));
        raw.destroy();
      },
    };
  },
};

// --- the contract -------------------------------------------------------------------------------------

for (const backend of [fileBackend, s3Backend]) {
  describe(`remote cache contract: ${backend.name}`, { skip: backend.skip }, () => {
    test("a record is written only if absent: a second writer gets the first record back, unchanged", async () => {
      const { remote } = await backend.fresh();
      const fp = fingerprint("a");
      assert.equal(await remote.getRecord("train@lr-0.1", fp), undefined);
      const first = makeRecord("train@lr-0.1", fp, "hash-one", "first");
      assert.deepEqual(await remote.putRecordIfAbsent(first), { status: "written" });
      assert.deepEqual(await remote.getRecord("train@lr-0.1", fp), first);
      const second = makeRecord("train@lr-0.1", fp, "hash-two", "second");
      assert.deepEqual(await remote.putRecordIfAbsent(second), { status: "exists", existing: first });
      assert.deepEqual(await remote.getRecord("train@lr-0.1", fp), first, "never overwritten");
    });

    test("a record that is not JSON is an 'invalid' error naming the stage; an absent one is undefined", async () => {
      const { remote, writeRaw } = await backend.fresh();
      const fp = fingerprint("broken");
      await writeRaw(`records/report/${fp}.json`, "{ not json");
      await rejectsWith(remote.getRecord("report", fp), "invalid", /not valid JSON/);
      assert.equal(await remote.getRecord("report", fingerprint("other")), undefined);
    });

    test("blobs round trip under their digest; an absent blob rejects with 'absent'", async () => {
      const { remote } = await backend.fresh();
      const bytes = randomBytes(70_000);
      const file = await localFile(bytes);
      assert.equal(await remote.hasBlob(file.sha256), false);
      await remote.putBlob(file.sha256, file.size, file.path);
      assert.equal(await remote.hasBlob(file.sha256), true);
      assert.deepEqual(await readAll(await remote.getBlob(file.sha256)), bytes);
      await rejectsWith(remote.getBlob(digest(Buffer.from("never stored"))), "absent", /is not there/);
      // Storing the same blob again is harmless (pushes skip it, but two pushers may race).
      await remote.putBlob(file.sha256, file.size, file.path);
      assert.deepEqual(await readAll(await remote.getBlob(file.sha256)), bytes);
    });

    test("a file whose bytes do not match the digest it is uploaded as is refused, and nothing is stored", async () => {
      const { remote } = await backend.fresh();
      const file = await localFile(Buffer.from("the real content"));
      const claimed = digest(Buffer.from("what it was hashed as"));
      await rejectsWith(remote.putBlob(claimed, file.size, file.path), "invalid", /changed after it was hashed/);
      assert.equal(await remote.hasBlob(claimed), false);
      assert.deepEqual(await collect(remote.listBlobs()), []);
    });

    test("listing gives back exact stage names (even with / % .. and non-ASCII), fingerprints, dates and blob sizes, and skips strays", async () => {
      const { remote, writeRaw } = await backend.fresh();
      const stages = ["preprocess@raw-split", "train@lr=0.1+bn", "a/b", "a_b", "..", ".hidden", "50%", "zählen"];
      const before = Date.now() - 60_000;
      for (const stage of stages) await remote.putRecordIfAbsent(makeRecord(stage, fingerprint(stage), "h"));
      const small = await localFile(Buffer.from("x"));
      const bigger = await localFile(randomBytes(1000));
      await remote.putBlob(small.sha256, small.size, small.path);
      await remote.putBlob(bigger.sha256, bigger.size, bigger.path);
      await writeRaw("records/stray.txt", "not a record");
      await writeRaw(`blobs/00/${"f".repeat(64)}`, "filed under the wrong fan-out");

      const records = await collect(remote.listRecords());
      assert.deepEqual(
        records.map(({ stage, fingerprint: fp }) => ({ stage, fingerprint: fp })).sort((a, b) => a.stage.localeCompare(b.stage)),
        stages.map((stage) => ({ stage, fingerprint: fingerprint(stage) })).sort((a, b) => a.stage.localeCompare(b.stage)),
      );
      for (const record of records) {
        assert.ok(record.modified instanceof Date && record.modified.getTime() > before, `a recent modification date for ${record.stage}`);
        assert.equal((await remote.getRecord(record.stage, record.fingerprint) as RemoteRecord).stage, record.stage);
      }
      assert.deepEqual(
        (await collect(remote.listBlobs())).sort((a, b) => a.size - b.size),
        [
          { sha256: small.sha256, size: 1 },
          { sha256: bigger.sha256, size: 1000 },
        ],
      );
    });

    test("delete removes records and blobs; deleting what is absent is not an error", async () => {
      const { remote } = await backend.fresh();
      const fp = fingerprint("d");
      const file = await localFile(Buffer.from("to delete"));
      await remote.putRecordIfAbsent(makeRecord("train", fp, "h"));
      await remote.putBlob(file.sha256, file.size, file.path);
      await remote.deleteRecord("train", fp);
      await remote.deleteBlob(file.sha256);
      assert.equal(await remote.getRecord("train", fp), undefined);
      assert.equal(await remote.hasBlob(file.sha256), false);
      assert.deepEqual(await collect(remote.listRecords()), []);
      assert.deepEqual(await collect(remote.listBlobs()), []);
      await remote.deleteRecord("train", fp);
      await remote.deleteBlob(file.sha256);
      // A deleted record can be written again.
      assert.deepEqual(await remote.putRecordIfAbsent(makeRecord("train", fp, "h2")), { status: "written" });
    });

    test("a large blob (20 MiB) round trips intact", async () => {
      const { remote } = await backend.fresh();
      const bytes = randomBytes(20 * 1024 * 1024);
      const file = await localFile(bytes);
      const sentBefore = proxy?.requests.length ?? 0;
      await remote.putBlob(file.sha256, file.size, file.path);
      assert.equal(digest(await readAll(await remote.getBlob(file.sha256))), file.sha256);
      assert.deepEqual(await collect(remote.listBlobs()), [{ sha256: file.sha256, size: file.size }]);
      if (remote instanceof S3RemoteCache) {
        const parts = proxy!.requests.slice(sentBefore).filter((request) => request.method === "PUT" && request.path.includes("partNumber="));
        assert.equal(parts.length, 3, "uploaded as a multipart upload in 8 MiB parts");
      }
    });

    test("a read-only remote reads, and refuses every write with 'read-only'", async () => {
      const { remote, reopen } = await backend.fresh();
      const fp = fingerprint("ro");
      const file = await localFile(Buffer.from("readable"));
      await remote.putRecordIfAbsent(makeRecord("train", fp, "h"));
      await remote.putBlob(file.sha256, file.size, file.path);
      const readOnly = await reopen({ readOnly: true });
      assert.equal(readOnly.writable, false);
      assert.equal(remote.writable, true);
      assert.equal((await readOnly.getRecord("train", fp) as RemoteRecord).fingerprint, fp);
      assert.deepEqual(await readAll(await readOnly.getBlob(file.sha256)), Buffer.from("readable"));
      await rejectsWith(readOnly.putRecordIfAbsent(makeRecord("train", fingerprint("new"), "h")), "read-only");
      await rejectsWith(readOnly.putBlob(file.sha256, file.size, file.path), "read-only");
      await rejectsWith(readOnly.deleteRecord("train", fp), "read-only");
      await rejectsWith(readOnly.deleteBlob(file.sha256), "read-only");
      assert.ok(await remote.hasBlob(file.sha256));
    });

    test("a fingerprint or digest that could escape the layout is refused before anything is touched", async () => {
      const { remote } = await backend.fresh();
      await rejectsWith(remote.getRecord("train", "../../etc"), "invalid");
      await rejectsWith(remote.putRecordIfAbsent(makeRecord("train", "a/b", "h")), "invalid");
      await rejectsWith(remote.hasBlob("../" + "a".repeat(61)), "invalid");
      await rejectsWith(remote.getBlob("ABC"), "invalid");
      await rejectsWith(remote.putRecordIfAbsent(makeRecord("", fingerprint("empty"), "h")), "invalid");
    });
  });
}

// --- S3 only -------------------------------------------------------------------------------------

describe("S3 remote", { skip: s3Missing }, () => {
  test("a server that accepts and never answers fails each operation with 'timeout' within the configured time", async () => {
    const hanging = http.createServer(() => {
      /* accept, read nothing, answer nothing */
    });
    hanging.listen(0, "127.0.0.1");
    await once(hanging, "listening");
    const endpoint = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    try {
      const remote = await track(openRemote("s3://bucket/prefix", s3Options({ endpoint, requestTimeoutMs: 400, maxAttempts: 2 })));
      for (const operation of [() => remote.getRecord("train", fingerprint("t")), () => remote.hasBlob(fingerprint("t"))]) {
        const started = Date.now();
        const error = await rejectsWith(operation(), "timeout", /no answer within 400 ms/);
        const elapsed = Date.now() - started;
        // Two attempts of 400 ms plus the SDK's backoff between them.
        assert.ok(elapsed >= 700 && elapsed < 4000, `failed after ${elapsed} ms`);
        assert.match(error.message, /s3:\/\/bucket\/prefix/);
      }
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
    // Now nothing listens there at all.
    const refused = await track(openRemote("s3://bucket/prefix", s3Options({ endpoint, maxAttempts: 1 })));
    await rejectsWith(refused.hasBlob(fingerprint("t")), "unreachable", /cannot connect \(ECONNREFUSED\)/);
  });

  test("a blob whose body stalls midway fails its stream with 'timeout'", async () => {
    const remote = await track(openRemote(`s3://${server!.bucket}/stall`, s3Options({ requestTimeoutMs: 500 })));
    const file = await localFile(randomBytes(200_000));
    await remote.putBlob(file.sha256, file.size, file.path);
    proxy!.addFault({ method: "GET", path: file.sha256, fault: { kind: "stall", afterBytes: 50_000 }, times: 1 });
    const started = Date.now();
    await rejectsWith(readAll(await remote.getBlob(file.sha256)), "timeout");
    assert.ok(Date.now() - started < 3000);
    proxy!.clearFaults();
  });

  test("checksums: WHEN_REQUIRED (the default) sends no CRC32, WHEN_SUPPORTED does, and s3rver accepts both", async () => {
    const file = await localFile(randomBytes(5000));
    for (const checksums of ["WHEN_REQUIRED", "WHEN_SUPPORTED"] as const) {
      const remote = await track(openRemote(`s3://${server!.bucket}/checksums-${checksums}`, s3Options({ checksums })));
      const sentBefore = proxy!.requests.length;
      await remote.putBlob(file.sha256, file.size, file.path);
      assert.equal(digest(await readAll(await remote.getBlob(file.sha256))), file.sha256);
      const put = proxy!.requests.slice(sentBefore).find((request) => request.method === "PUT");
      assert.ok(put, "the upload went through the proxy");
      assert.equal("x-amz-checksum-crc32" in put.headers, checksums === "WHEN_SUPPORTED", `${checksums}: ${JSON.stringify(put.headers)}`);
    }
    const defaults = await track(openRemote(`s3://${server!.bucket}/checksums-default`, s3Options()));
    const sentBefore = proxy!.requests.length;
    await defaults.putBlob(file.sha256, file.size, file.path);
    assert.ok(!("x-amz-checksum-crc32" in proxy!.requests.slice(sentBefore).find((request) => request.method === "PUT")!.headers));
  });

  test("s3rver ignores If-None-Match on PUT: the probe finds that, warns once, and records still are not overwritten", async () => {
    const warnings: string[] = [];
    const remote = (await track(openRemote(`s3://${server!.bucket}/ignored`, s3Options({ onWarning: (message) => warnings.push(message) })))) as S3RemoteCache;
    assert.equal(await remote.conditionalWriteSupport(), "ignored");
    const fp = fingerprint("c");
    assert.deepEqual(await remote.putRecordIfAbsent(makeRecord("train", fp, "one")), { status: "written" });
    assert.equal((await remote.putRecordIfAbsent(makeRecord("train", fp, "two"))).status, "exists");
    assert.equal(((await remote.getRecord("train", fp)) as RemoteRecord).manifest.outputHash, "one");
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0]!, /ignores If-None-Match.*race/);
    assert.deepEqual(await collect(remote.listRecords()).then((records) => records.map((record) => record.stage)), ["train"], "the probe key is gone and not listed");
  });

  test("where If-None-Match is honoured (the proxy's emulation of S3's 412), concurrent writers of one record: exactly one writes", async () => {
    const honouring = await FaultProxy.start(server!.endpoint, { emulateConditionalWrites: true });
    try {
      const warnings: string[] = [];
      const url = `s3://${server!.bucket}/conditional`;
      const writers = await Promise.all(
        [1, 2, 3, 4, 5].map(() => track(openRemote(url, s3Options({ endpoint: honouring.endpoint, onWarning: (message) => warnings.push(message) })))),
      );
      assert.equal(await (writers[0] as S3RemoteCache).conditionalWriteSupport(), "enforced");
      const fp = fingerprint("race");
      const results = await Promise.all(writers.map((writer, index) => writer.putRecordIfAbsent(makeRecord("train", fp, `hash-${index}`))));
      const written = results.filter((result) => result.status === "written");
      assert.equal(written.length, 1, JSON.stringify(results));
      const stored = (await writers[0]!.getRecord("train", fp)) as RemoteRecord;
      for (const result of results) {
        if (result.status === "exists") assert.deepEqual(result.existing, stored, "every loser sees the winner's record");
      }
      assert.ok(honouring.requests.some((request) => request.status === 412), "the 412 path was taken");
      assert.deepEqual(warnings, []);
    } finally {
      await honouring.stop();
    }
  });

  test("a 500 once is retried by the SDK; 500s on every attempt are 'server-error'", async () => {
    const remote = await track(openRemote(`s3://${server!.bucket}/errors`, s3Options({ maxAttempts: 2 })));
    const file = await localFile(Buffer.from("retry me"));
    await remote.putBlob(file.sha256, file.size, file.path);
    proxy!.addFault({ method: "GET", path: file.sha256, fault: { kind: "status", status: 500 }, times: 1 });
    assert.deepEqual(await readAll(await remote.getBlob(file.sha256)), Buffer.from("retry me"));
    proxy!.addFault({ method: "HEAD", path: file.sha256, fault: { kind: "status", status: 503 } });
    await rejectsWith(remote.hasBlob(file.sha256), "server-error", /answered 503/);
    proxy!.clearFaults();
  });

  test("the endpoint comes from AWS_ENDPOINT_URL_S3 when none is given, and a missing bucket says so", async () => {
    // (Every other S3 test here also reaches the proxy through AWS_ENDPOINT_URL_S3, set in before().)
    assert.equal(process.env.AWS_ENDPOINT_URL_S3, proxy!.endpoint);
    const remote = await track(openRemote(`s3://${server!.bucket}/from-env`, { forcePathStyle: true }));
    const sentBefore = proxy!.requests.length;
    assert.equal(await remote.getRecord("train", fingerprint("env")), undefined);
    assert.ok(proxy!.requests.length > sentBefore, "the request went to AWS_ENDPOINT_URL_S3");
    const missing = await track(openRemote("s3://no-such-bucket/x", s3Options()));
    await rejectsWith(missing.getRecord("train", fingerprint("x")), "failed", /bucket "no-such-bucket" does not exist/);
  });

  test("without any credentials the remote is read anonymously and is read-only, with a warning", async () => {
    const seeded = await track(openRemote(`s3://${server!.bucket}/anonymous`, s3Options()));
    const fp = fingerprint("anon");
    await seeded.putRecordIfAbsent(makeRecord("train", fp, "h"));
    const saved = { ...process.env };
    try {
      for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) delete process.env[name];
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(scratch, "no-credentials");
      process.env.AWS_CONFIG_FILE = join(scratch, "no-config");
      const warnings: string[] = [];
      const anonymous = await track(openRemote(`s3://${server!.bucket}/anonymous`, s3Options({ onWarning: (message) => warnings.push(message) })));
      assert.equal(anonymous.writable, false);
      assert.match(warnings.join("\n"), /no AWS credentials.*anonymously, read-only/);
      assert.equal(((await anonymous.getRecord("train", fp)) as RemoteRecord).fingerprint, fp);
      const unsigned = proxy!.requests.at(-1)!;
      assert.equal(unsigned.headers.authorization, undefined, "the request was not signed");
      await rejectsWith(anonymous.putRecordIfAbsent(makeRecord("train", fingerprint("anon2"), "h")), "read-only");
    } finally {
      process.env = saved;
    }
  });
});

// --- file only -------------------------------------------------------------------------------------

describe("file remote", () => {
  test("separate processes racing to write one record: exactly one writes, the others read its record", async () => {
    const root = await mkdtemp(join(scratch, "race-"));
    const fp = fingerprint("race");
    const startAt = Date.now() + 2500; // every process loaded and waiting before the first writes
    const script = `
      import { FileRemoteCache } from ${JSON.stringify(pathToFileURL(join(ROOT, "engine/file-remote-cache.ts")).href)};
      const remote = await FileRemoteCache.open(${JSON.stringify(root)});
      const record = ${JSON.stringify(makeRecord("train", fp, "HASH"))};
      record.manifest.outputHash = "hash-" + process.argv[1];
      await new Promise((resolve) => setTimeout(resolve, ${startAt} - Date.now()));
      const result = await remote.putRecordIfAbsent(record);
      console.log(JSON.stringify({ writer: process.argv[1], status: result.status, existing: result.existing?.manifest.outputHash }));
    `;
    const outputs = await Promise.all(
      [0, 1, 2, 3].map(async (writer) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, String(writer)], { cwd: ROOT });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const [code] = (await once(child, "exit")) as [number];
        assert.equal(code, 0, stderr);
        return JSON.parse(stdout) as { writer: string; status: string; existing?: string };
      }),
    );
    const winners = outputs.filter((output) => output.status === "written");
    assert.equal(winners.length, 1, JSON.stringify(outputs));
    const stored = JSON.parse(await readFile(join(root, "records/train", `${fp}.json`), "utf8")) as RemoteRecord;
    assert.equal(stored.manifest.outputHash, `hash-${winners[0]!.writer}`);
    for (const output of outputs.filter((output) => output.status === "exists")) assert.equal(output.existing, stored.manifest.outputHash);
    assert.deepEqual(await collect((await openRemote(pathToFileURL(root).href)).listRecords()).then((records) => records.length), 1, "no temp file is listed");
  });

  test("a root that does not exist is 'unreachable', naming the path and what to do", async () => {
    const missing = join(scratch, "not-mounted");
    await rejectsWith(openRemote(pathToFileURL(missing).href), "unreachable", new RegExp(`${missing} is not a directory; create it`));
  });
});

// --- URLs and loading -------------------------------------------------------------------------------

test("remote URLs: file:///abs and s3://bucket/prefix parse; anything else is a usage error naming the URL", () => {
  assert.deepEqual(parseRemoteUrl("file:///mnt/team%20cache/"), { kind: "file", root: "/mnt/team cache" });
  assert.deepEqual(parseRemoteUrl("s3://ml-cache/pipelines//mnist/"), { kind: "s3", bucket: "ml-cache", prefix: "pipelines/mnist" });
  assert.deepEqual(parseRemoteUrl("s3://ml-cache"), { kind: "s3", bucket: "ml-cache", prefix: "" });
  const cases: [string, RegExp][] = [
    ["/mnt/cache", /is not a URL/],
    ["gs://bucket/x", /unsupported scheme "gs:"/],
    ["file://server/share", /names the host "server"/],
    ["file:///", /absolute directory other than \//],
    ["s3://KEY:SECRET@bucket/x", /carries credentials/],
    ["s3://bucket:9000/x", /no valid bucket name/],
    ["s3://bucket/x?region=eu", /query/],
    ["s3://bucket/50%zz", /malformed %-escape/],
  ];
  for (const [url, pattern] of cases) {
    assert.throws(
      () => parseRemoteUrl(url),
      (error: unknown) => error instanceof PipelineError && error.reason === "invalid-cli" && pattern.test(error.message) && error.message.includes("s3://bucket/prefix or file:///absolute/path"),
      url,
    );
  }
});

test("the AWS SDK is loaded only for an s3:// remote, so runs without one stay fast", async () => {
  const root = await mkdtemp(join(scratch, "load-"));
  const loaded = async (url: string): Promise<boolean> => {
    const script = `
      import { createRequire } from "node:module";
      import { openRemote } from ${JSON.stringify(pathToFileURL(join(ROOT, "engine/open-remote.ts")).href)};
      await openRemote(${JSON.stringify(url)}, { endpoint: "http://127.0.0.1:9", requestTimeoutMs: 100 });
      const cache = createRequire(import.meta.url).cache;
      console.log(Object.keys(cache).some((path) => path.includes("@aws-sdk")));
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y", AWS_REGION: "us-east-1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number];
    assert.equal(code, 0, stderr);
    return stdout.trim() === "true";
  };
  assert.equal(await loaded(pathToFileURL(root).href), false, "file:// loads no AWS SDK");
  assert.equal(await loaded("s3://bucket/prefix"), true, "s3:// does (so the check above can fail)");
});

// --- the fault proxy itself ------------------------------------------------------------------------------

describe("fault proxy", { skip: s3Missing }, () => {
  test("passes requests through, and corrupts, truncates and delays them on request", async () => {
    const remote = await track(openRemote(`s3://${server!.bucket}/proxy`, s3Options({ maxAttempts: 1 })));
    const bytes = randomBytes(100_000);
    const file = await localFile(bytes);
    await remote.putBlob(file.sha256, file.size, file.path);

    proxy!.addFault({ method: "GET", path: file.sha256, fault: { kind: "corrupt" }, times: 1 });
    const corrupted = await readAll(await remote.getBlob(file.sha256));
    assert.equal(corrupted.length, bytes.length);
    assert.equal(corrupted[0], bytes[0]! ^ 0xff);
    assert.deepEqual(corrupted.subarray(1), bytes.subarray(1));

    proxy!.addFault({ method: "GET", path: file.sha256, fault: { kind: "truncate", afterBytes: 10_000 }, times: 1 });
    await rejectsWith(readAll(await remote.getBlob(file.sha256)), "unreachable", /connection was cut/);

    proxy!.addFault({ method: "GET", path: file.sha256, fault: { kind: "delay", ms: 300 }, times: 1 });
    const started = Date.now();
    assert.deepEqual(await readAll(await remote.getBlob(file.sha256)), bytes);
    assert.ok(Date.now() - started >= 300);

    assert.deepEqual(await readAll(await remote.getBlob(file.sha256)), bytes, "rules expire after `times`");
    const faults = proxy!.requests.filter((request) => request.fault !== undefined).map((request) => request.fault);
    assert.deepEqual(faults.slice(-3), ["corrupt", "truncate", "delay"]);
  });
});
