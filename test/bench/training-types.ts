export type { Architecture } from "../../ml/config.ts";
export type { ExperimentSpec } from "../../ml/train.ts";
