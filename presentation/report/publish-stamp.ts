/**
 * publishUnlessUnchanged: publishReport, skipped when the reports folder already holds what it would
 * write. Publishing runs after every successful `run`, a no-op included, and copies the whole report
 * (the full grid's: ~270 files, 32 MB of charts) — more than the rest of a no-op costs.
 *
 * What a publish writes depends only on the report stage's result folder (content-addressed, never
 * modified) and the provenance stamped into report.md (commit, uncommitted files, the lock's SHA-256,
 * machines). So the stamp records both, and the stat (size, mtime, ctime, inode) of every file
 * written; the copy is skipped only when the provenance is the same, every file is as written, and
 * the folders it replaces whole hold nothing else. A file edited, deleted or added there publishes again.
 */
import { mkdir, readFile, readdir, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { collectProvenance, publishReport, type Provenance, type PublishOptions, type PublishResult } from "./publish.ts";

interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

interface PublishStamp {
  reportOutDir: string;
  provenance: Provenance;
  files: Record<string, FileStat>;
}

export interface StampedPublishResult extends PublishResult {
  /** true: the reports folder was already up to date and nothing was written. */
  unchanged: boolean;
}

/** `stampFile`: where the last publish to `reportsDir` is recorded (outside reportsDir, which may be committed). */
export async function publishUnlessUnchanged(
  reportOutDir: string,
  reportsDir: string,
  stampFile: string,
  options: PublishOptions = {},
): Promise<StampedPublishResult> {
  const [provenance, stamp] = await Promise.all([collectProvenance(reportOutDir, reportsDir, options), readStamp(stampFile)]);
  if (
    stamp &&
    stamp.reportOutDir === resolve(reportOutDir) &&
    isDeepStrictEqual(stamp.provenance, provenance) &&
    (await stillAsWritten(reportsDir, stamp.files))
  ) {
    return { provenance, files: Object.keys(stamp.files), unchanged: true };
  }
  const result = await publishReport(reportOutDir, reportsDir, options, provenance);
  const files: Record<string, FileStat> = {};
  for (const file of result.files) files[file] = await statOf(join(reportsDir, file));
  // A stamp that cannot be written (read-only artifacts/) only costs the next run a copy.
  await writeStamp(stampFile, { reportOutDir: resolve(reportOutDir), provenance: result.provenance, files }).catch(() => {});
  return { ...result, unchanged: false };
}

async function stillAsWritten(reportsDir: string, files: Record<string, FileStat>): Promise<boolean> {
  // publishReport replaces its folders (charts/, analyses/) whole: a file added there publishes again.
  const folders = new Set(Object.keys(files).filter((file) => file.includes("/")).map((file) => file.slice(0, file.indexOf("/"))));
  for (const folder of folders) {
    const stamped = Object.keys(files).filter((file) => file.startsWith(`${folder}/`)).map((file) => file.slice(folder.length + 1)).sort();
    const present = (await readdir(join(reportsDir, folder)).catch(() => [] as string[])).sort();
    if (present.join("\n") !== stamped.join("\n")) return false;
  }
  const stats = await Promise.all(Object.keys(files).map((file) => statOf(join(reportsDir, file)).catch(() => undefined)));
  return Object.values(files).every((expected, i) => isDeepStrictEqual(stats[i], expected));
}

async function statOf(path: string): Promise<FileStat> {
  const { size, mtimeMs, ctimeMs, ino } = await stat(path);
  return { size, mtimeMs, ctimeMs, ino };
}

async function readStamp(path: string): Promise<PublishStamp | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as PublishStamp;
  } catch {
    return undefined;
  }
}

async function writeStamp(path: string, stamp: PublishStamp): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(stamp));
  await rename(temporary, path);
}
