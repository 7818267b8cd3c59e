/**
 * "Trained weights": where every trained network is and how to load it. Each seed's weights are its
 * train stage's result (model.json + weights.bin), kept in the artifact store under a folder named by
 * the stage's content-addressed key — the same path on every machine that ran, or pulled, the same
 * stage. Folded: one line per run.
 */
import { table } from "../report/markdown.ts";
import { code, type ReportInput } from "../report/report-parts.ts";

export function weightsSection(input: Pick<ReportInput, "rows">): string[] {
  const runs = input.rows.flatMap((row) => row.weights.map((weights) => ({ row, ...weights })));
  if (runs.length === 0) return [];
  const example = runs[0]!;
  return [
    "## Trained weights",
    `Every network trained here (${runs.length} run${runs.length === 1 ? "" : "s"}) is kept: \`model.json\` (our model description and the tfjs weight manifest) and \`weights.bin\` in its train stage's folder of the artifact store, relative to the project. ` +
      "Load one with the project's loader (it rebuilds the architecture from `model.json`; `tf.loadLayersModel` does not know our layers):",
    [
      "```ts",
      'import { loadModel } from "./ml/weights.ts";',
      `const model = await loadModel(${JSON.stringify(example.path)}); // ${example.row.id}, seed ${example.seed}`,
      "const logits = model.predict(images); // images: tf.Tensor4D [n, 28, 28, 1], normalized as the row's dataset",
      "```",
    ].join("\n"),
    "A folder missing here (another machine's run, a cleaned cache) comes back with `npm run pipeline -- pull` from the team's remote cache, or by running the pipeline with the same params (`npm run pipeline -- logs train@<id>` shows a training's output).",
    [
      "<details>",
      `<summary>Where each run's weights are (${runs.length})</summary>`,
      "",
      table(
        ["experiment", "seed", "folder", "weights of"],
        runs.map((run) => [code(run.row.id), String(run.seed), code(run.path), run.selectedEpoch === null ? "the last epoch" : `epoch ${run.selectedEpoch} (best validation accuracy)`]),
        ["left", "right", "left", "left"],
      ),
      "",
      "</details>",
    ].join("\n"),
  ];
}
