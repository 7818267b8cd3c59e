import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProjectDefinition } from "../engine/stage.ts";
import { download } from "./download.ts";
import { evaluate } from "./evaluate.ts";
import { parseParams, type Params } from "./params-schema.ts";
import { preprocess } from "./preprocess.ts";
import { train } from "./train.ts";

/** The MNIST reproduction project: its params and its stages, in the order `dag` lists them. */
export const project: ProjectDefinition<Params> = {
  root: join(dirname(fileURLToPath(import.meta.url)), ".."),
  module: fileURLToPath(import.meta.url),
  parseParams,
  declarations: [download, preprocess, train, evaluate],
};
