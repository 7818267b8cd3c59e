/**
 * The layer summary of each architecture, as study 002 prints it: output shape and parameters per
 * layer, and parameters / neurons split into convolutional and fully-connected.
 */
import type { ModelSummary } from "../../ml/models.ts";
import { integer, table } from "../report/markdown.ts";

export interface SummarySource {
  id: string;
  architecture: string;
  variant: string;
  summary: ModelSummary;
}

const KIND_NAMES: Record<string, string> = { conv: "conv", fc: "fully connected", other: "—" };

function signature(summary: ModelSummary): string {
  return JSON.stringify(summary.layers.map((layer) => [layer.name, layer.type, layer.outputShape, layer.params]));
}

export function layerTable(summary: ModelSummary): string {
  return table(
    ["#", "layer", "type", "output shape (H×W×C)", "parameters", "counted as"],
    summary.layers.map((layer, index) => [
      String(index + 1),
      layer.name,
      layer.type,
      layer.outputShape.join("×"),
      layer.params === 0 ? "0" : integer(layer.params),
      KIND_NAMES[layer.kind] ?? layer.kind,
    ]),
    ["right", "left", "left", "left", "right", "left"],
  );
}

export function splitLine(summary: ModelSummary): string {
  const other = summary.otherParams > 0 ? `, other (BatchNorm γ/β) ${integer(summary.otherParams)}` : "";
  return (
    `Parameters: **${integer(summary.totalParams)}** — conv ${integer(summary.convParams)}, fully connected ${integer(summary.fcParams)}${other}. ` +
    `Neurons (conv: channels × H × W; fc: units): conv ${integer(summary.convNeurons)}, fully connected ${integer(summary.fcNeurons)}.`
  );
}

/**
 * One section per architecture: the plainest variant's layers in full (fewest layers; ties by
 * experiment order), then one line per other layer layout naming the experiments that use it.
 */
export function architectureSections(sources: readonly SummarySource[], headingLevel = 4): string[] {
  const sections: string[] = [];
  const architectures = [...new Set(sources.map((source) => source.architecture))];
  for (const architecture of architectures) {
    const members = sources.filter((source) => source.architecture === architecture);
    const layouts = new Map<string, SummarySource[]>();
    for (const member of members) layouts.set(signature(member.summary), [...(layouts.get(signature(member.summary)) ?? []), member]);
    const ordered = [...layouts.values()].sort((a, b) => a[0]!.summary.layers.length - b[0]!.summary.layers.length);
    const [plain, ...others] = ordered;
    if (!plain) continue;
    const lines = [
      `${"#".repeat(headingLevel)} Architecture \`${architecture}\``,
      "",
      `Layers of ${plain.map((member) => `\`${member.id}\``).join(", ")} (shapes per image, tfjs NHWC order):`,
      "",
      layerTable(plain[0]!.summary),
      "",
      splitLine(plain[0]!.summary),
    ];
    if (others.length > 0) {
      lines.push("", "Other layer layouts of this architecture:", "");
      for (const layout of others) {
        const base = new Set(plain[0]!.summary.layers.map((layer) => layer.type));
        const added = [...new Set(layout[0]!.summary.layers.map((layer) => layer.type).filter((type) => !base.has(type)))];
        lines.push(
          `- ${layout.map((member) => `\`${member.id}\``).join(", ")} (${layout[0]!.variant}): ${layout[0]!.summary.layers.length} layers${added.length > 0 ? ` (adds ${added.join(", ")})` : ""}, ${integer(layout[0]!.summary.totalParams)} parameters — conv ${integer(layout[0]!.summary.convParams)}, fully connected ${integer(layout[0]!.summary.fcParams)}, other ${integer(layout[0]!.summary.otherParams)}.`,
        );
      }
    }
    sections.push(lines.join("\n"));
  }
  return sections;
}
