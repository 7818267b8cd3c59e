/**
 * What each study is, in a few words (from shared/EXPERIMENTS.md). Section headings only: the
 * numbers and the experiment list always come from params and results.
 */
export const STUDY_NAMES: Readonly<Record<string, string>> = {
  "000": "Two 9×9 conv blocks with He init (cnn9)",
  "001": "One 8×8 stride-2 convolution (conv1)",
  "002": "Simple CNN: optimizers and BatchNorm (simple)",
  "003": "LeNet: activation, dropout, BatchNorm, initialisation (lenet)",
  "004": "Textbook CNN (textbook)",
  ours: "Our answer to 004's challenge: can a CNN reach 99.5%? (textbook-hints)",
};

export function studyHeading(study: string): string {
  const name = STUDY_NAMES[study];
  return study === "ours" ? `Our experiments${name ? `: ${name}` : ""}` : `Study ${study}${name ? `: ${name}` : ""}`;
}
