import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { fetchMnist } from "../../ml/download.ts";
import { tempDir } from "./helpers.ts";

/** A port nothing listens on: bound, noted, closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("an unreachable mirror names the cause (connection refused, host:port), not just \"fetch failed\"", async () => {
  const { dir, cleanup } = await tempDir("unreachable");
  try {
    const port = await closedPort();
    const logged: string[] = [];
    await assert.rejects(
      fetchMnist({ kind: "url", baseUrl: `http://127.0.0.1:${port}/mnist` }, dir, { attempts: 2, retryDelayMs: 1, log: (line) => logged.push(line) }),
      (error: Error) => {
        assert.match(error.message, new RegExp(`failed after 2 attempt\\(s\\): fetch failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
        return true;
      },
    );
    assert.match(logged.join("\n"), /attempt 1 failed \(fetch failed: connect ECONNREFUSED/);
  } finally {
    await cleanup();
  }
});
