"use strict";
// The entry point the Pulumi CLI loads (package.json "main"). The CLI runs a policy pack through
// @pulumi/pulumi's cmd/run-policy-pack, which registers ts-node for `.ts` files whatever
// PulumiPolicy.yaml says (node_modules/@pulumi/pulumi/cmd/run-policy-pack/index.js: `typeScript:
// !process.versions.bun`). That ts-node (7.0.1, vendored) maps no `.js` import to a `.ts` file and
// stops at TS5011 on this tsconfig, so this plain JavaScript file registers tsx, the loader the
// program itself runs under (Pulumi.yaml `nodeargs`), and loads the pack's TypeScript through it.
require("tsx/cjs");
require("./index.ts");
