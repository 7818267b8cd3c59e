import { cpus, totalmem } from "node:os";

/** Where a stage ran; stages add their own facts (tfjs backend and versions) through the context. */
export function baseEnvironment(): Record<string, string> {
  const cpuList = cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: `${cpuList.length} × ${cpuList[0]?.model.trim() ?? "unknown"}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
  };
}
