import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";

/**
 * A real browser for the tests: Debian's `chromium`, driven by playwright-core (which never
 * downloads a browser: it is given this executable). Headless, no sandbox (CI runs as root), no
 * network of its own (no QUIC, no background or component updates, no sync) and a fresh profile
 * per launch, removed on close.
 */
export const CHROMIUM_PACKAGE = "chromium";
/** Debian's path; CHROMIUM_PATH names another Chromium build. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  const probe = existsSync(CHROMIUM_PATH) ? spawnSync(CHROMIUM_PATH, ["--version"], { encoding: "utf8" }) : undefined;
  if (!probe || probe.error || probe.status !== 0) {
    return `${CHROMIUM_PATH} is not installed: install Debian's ${CHROMIUM_PACKAGE} package (apt-get install -y ${CHROMIUM_PACKAGE}; .ci/run does it) to run the browser tests of report.html`;
  }
  return undefined;
}

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(viewport: { width: number; height: number }): Promise<Chromium> {
  const { chromium } = await import("playwright-core");
  const profile = await mkdtemp(join(tmpdir(), "chromium-profile-"));
  // Playwright passes the profile as --user-data-dir itself (it refuses the flag in args).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
