/**
 * An S3-compatible server for tests: @20minutes/s3rver (the maintained fork of s3rver, an npm
 * devDependency) in a child process on a loopback port, with its data in a temp directory.
 *
 * A child process rather than in-process, so a test that runs the pipeline with spawnSync (which
 * blocks this process's event loop) still has a server answering. The child exits when its stdin
 * closes, so a test process that dies leaves no server behind.
 *
 * What s3rver lacks, as far as this project cares:
 * - It ignores `If-None-Match: *` on PUT and overwrites (no conditional writes); the S3 remote
 *   detects that and falls back to check-then-put (test/engine/remote-cache-contract.test.ts).
 * - It rejects every bucket-level request (ListObjectsV2, …) the current SDK signs for path-style
 *   addressing ("/bucket/" versus its "/bucket"), so it runs with `allowMismatchedSignatures`:
 *   signatures must be well formed but are not checked.
 * - It rejects uploads streamed with a trailing checksum (the SDK's default since v3.729 for
 *   streams; the aws-sdk-js-v3 #6810 problem): x-amz-content-sha256 STREAMING-UNSIGNED-PAYLOAD-TRAILER.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";

export const S3_SERVER_PACKAGE = "@20minutes/s3rver";
/** s3rver's built-in account. */
export const S3_SERVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface S3TestServer {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly bucket: string;
  /** Where s3rver keeps the objects (one directory per key, content in `<key>._S3rver_object`). */
  readonly dataDir: string;
  /** What a child process (the pipeline) needs to reach this server through the SDK's standard chain. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/** Why the server cannot run here, or undefined when it can. */
export function s3ServerMissing(): string | undefined {
  try {
    createRequire(import.meta.url).resolve(S3_SERVER_PACKAGE);
    return undefined;
  } catch {
    return `the npm package ${S3_SERVER_PACKAGE} (a devDependency) is not installed: run npm ci`;
  }
}

const CHILD = `
const S3rver = require(process.argv[1]);
const server = new S3rver({
  address: "127.0.0.1", port: 0, silent: true, directory: process.argv[2],
  allowMismatchedSignatures: true, vhostBuckets: false, configureBuckets: [{ name: process.argv[3] }],
});
server.run().then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + "\\n"), (error) => { console.error(error); process.exit(1); });
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

export async function startS3Server(options: { bucket?: string } = {}): Promise<S3TestServer> {
  const bucket = options.bucket ?? "pipeline-cache";
  const dataDir = await mkdtemp(join(tmpdir(), "s3rver-"));
  const modulePath = createRequire(import.meta.url).resolve(S3_SERVER_PACKAGE);
  const child = spawn(process.execPath, ["-e", CHILD, modulePath, dataDir, bucket], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n")[0];
      if (stdout.includes("\n") && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`${S3_SERVER_PACKAGE} exited with ${code} before listening: ${stderr}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    dataDir,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: S3_SERVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_SERVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: "us-east-1",
      // Never let the credential chain reach for an instance metadata service from a test.
      AWS_EC2_METADATA_DISABLED: "true",
    },
    stop: () => stopChild(child, dataDir),
  };
}

async function stopChild(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, "exit");
    child.stdin?.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dataDir, { recursive: true, force: true });
}
