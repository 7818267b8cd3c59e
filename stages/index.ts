import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProjectDefinition } from "../engine/stage.ts";
import { download } from "./download.ts";
import { evaluate } from "./evaluate.ts";
import type { Params } from "./params.ts";
import { preprocess } from "./preprocess.ts";
import { train } from "./train.ts";

/** The MNIST reproduction project: its params and its stages, in the order `dag` lists them. */
export const project: ProjectDefinition<Params> = {
  root: join(dirname(fileURLToPath(import.meta.url)), ".."),
  module: fileURLToPath(import.meta.url),
  // The schema (arktype) loads only when a params document is new or the schema code changed.
  parseParams: async (document, sourceName) => (await import("./params-schema.ts")).parseParams(document, sourceName),
  paramsModule: fileURLToPath(new URL("./params-schema.ts", import.meta.url)),
  declarations: [download, preprocess, train, evaluate],
};
