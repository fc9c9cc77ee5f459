/**
 * Import rules of the program, checked by `npm run check:imports` (part of `npm test`). The layers,
 * from the bottom: `components/core/` (area-free helpers) → `components/<area>/` → `components/config.ts`,
 * `components/stack.ts`, `components/plan.ts` → `index.ts`; tools/, policies/ and test/ sit on top.
 * README "Code layout" says the same.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycle, type-only imports included.",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-imports-no-area",
      severity: "error",
      comment: "components/core/ holds area-free helpers: it imports no area, and not config.ts or stack.ts.",
      from: { path: "^components/core/" },
      to: { path: "^components/(?!core/)" },
    },
    {
      name: "hub-kinds-apart",
      severity: "error",
      comment: "A hub kind (components/hub/aws, pi, s3) imports the hub's common part, never another kind.",
      from: { path: "^components/hub/(aws|pi|s3)/" },
      to: { path: "^components/hub/(aws|pi|s3)/", pathNot: "^components/hub/$1/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs", ".cjs", ".json"] },
  },
};
