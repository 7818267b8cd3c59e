#!/usr/bin/env node
// `node pipeline.mjs [command] [options]`: pipeline.ts started from its cached bundle (engine/launch.mjs),
// without tsx's start-up cost. Same commands, same result as `node --import tsx pipeline.ts`.
import { fileURLToPath } from "node:url";
import { launch } from "./engine/launch.mjs";

await launch(fileURLToPath(new URL("./pipeline.ts", import.meta.url)));
