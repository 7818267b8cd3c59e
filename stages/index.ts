import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProjectDefinition } from "../engine/index.ts";
import { activationMaps } from "./activation-maps.ts";
import { adversarial } from "./adversarial.ts";
import type { ProjectParams } from "./analysis-params.ts";
import { download } from "./download.ts";
import { evaluate } from "./evaluate.ts";
import { executionOptions, executionWarnings } from "./execution.ts";
import { filters } from "./filters.ts";
import { layerSummary } from "./layer-summary.ts";
import { misclassified } from "./misclassified.ts";
import { occlusion } from "./occlusion.ts";
import { predictionGrid } from "./prediction-grid.ts";
import { preprocess } from "./preprocess.ts";
import { report } from "./report.ts";
import { train } from "./train.ts";
import { charts, comparisonCharts } from "./visualize.ts";

/** The MNIST reproduction project: its params and its stages, in the order `dag` lists them. */
export const project: ProjectDefinition<ProjectParams> = {
  root: join(dirname(fileURLToPath(import.meta.url)), ".."),
  module: fileURLToPath(import.meta.url),
  // The schema (arktype) loads only when a params document is new or the schema code changed.
  parseParams: async (document, sourceName) => (await import("./params-schema.ts")).parseParams(document, sourceName),
  paramsModule: fileURLToPath(new URL("./params-schema.ts", import.meta.url)),
  check: { defaultParams: "params.ci.json", tolerances: (params) => params.check.tolerances },
  execution: { options: executionOptions, warnings: executionWarnings },
  declarations: [
    download, preprocess, train, evaluate, charts, comparisonCharts,
    layerSummary, predictionGrid, filters, activationMaps, occlusion, adversarial, misclassified,
    report,
  ],
  async publish({ lockPath, workDir, materialize }) {
    await materialize("report"); // a report only the remote cache holds is fetched before it is copied
    const [{ reportOutDirFromLock }, { publishUnlessUnchanged }] = await Promise.all([import("../presentation/report/publish.ts"), import("../presentation/report/publish-stamp.ts")]);
    const subfolder = reportsSubfolder(lockPath);
    const target = join(workDir, "reports", ...subfolder);
    // The stamp of the last publish lives with the cache, not in reports/ (committed for the full grid).
    const stampFile = join(workDir, "artifacts", ".publish-stamps", `${subfolder[0] ?? "reports"}.json`);
    const result = await publishUnlessUnchanged(await reportOutDirFromLock(lockPath), target, stampFile, { lockFile: lockPath });
    return [
      `report: ${relative(workDir, join(target, "report.md"))} (${result.files.length} files, commit ${result.provenance.commit?.slice(0, 10) ?? "none"}` +
        `${result.unchanged ? ", already published" : ""})`,
    ];
  },
};

/** The full grid publishes to reports/; other profiles to reports/<profile>/ so they never overwrite it. */
function reportsSubfolder(lockPath: string): string[] {
  const name = basename(lockPath);
  return name === "pipeline.lock.json" ? [] : [name.replace(/^params\./, "").replace(/\.lock\.json$/, "")];
}
