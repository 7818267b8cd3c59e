/** engine/ has no import cycles, type-only imports included: each file reads on its own, bottom up. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ENGINE = fileURLToPath(new URL("../../engine/", import.meta.url));

/** Every relative import of each engine file (static, dynamic, `import type`, `export … from`), as TypeScript's pre-processor sees them. */
function engineImports(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const name of readdirSync(ENGINE).filter((file) => file.endsWith(".ts"))) {
    const path = join(ENGINE, name);
    const { importedFiles } = ts.preProcessFile(readFileSync(path, "utf8"), true, true);
    graph.set(
      path,
      importedFiles.map((file) => file.fileName).filter((specifier) => specifier.startsWith(".")).map((specifier) => resolve(dirname(path), specifier)).filter((target) => target.startsWith(ENGINE)),
    );
  }
  return graph;
}

function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const visit = (node: string, path: string[]): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "visiting") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "visiting");
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next, [...path, node]);
      if (cycle) return cycle;
    }
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node, []);
    if (cycle) return cycle;
  }
  return undefined;
}

test("engine/ has no import cycles, type-only imports included", () => {
  const graph = engineImports();
  assert.ok(graph.size > 20, "the engine's files were found");
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `cycle: ${cycle?.map((file) => file.slice(ENGINE.length)).join(" → ")}`);
});

test("the cycle finder finds a cycle (so the test above can fail)", () => {
  const graph = new Map([
    ["a", ["b"]],
    ["b", ["c"]],
    ["c", ["a"]],
  ]);
  assert.deepEqual(findCycle(graph), ["a", "b", "c", "a"]);
});
