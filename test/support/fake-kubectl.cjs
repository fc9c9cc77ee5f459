#!/usr/bin/env node
// A kubectl stand-in for drill tests: answers each invocation from a scenario of recorded API
// responses and logs what it was asked (arguments and stdin) so a test can assert on every call.
//   FAKE_KUBECTL_SCENARIO  JSON: [{ "match": "<regex on the space-joined arguments>",
//                                   "responses": [{ "stdout": "...", "file": "<path>", "stderr": "...", "code": 0 }] }]
//                          The first rule that matches answers; its responses are used in order, the
//                          last one repeats. No matching rule: exit 1 with "unexpected call".
//   FAKE_KUBECTL_STATE     directory for the call log (calls.jsonl) and per-rule counters.
const fs = require("node:fs");
const path = require("node:path");

const args = process.argv.slice(2);
const joined = args.join(" ");
const state = process.env.FAKE_KUBECTL_STATE;
const rules = JSON.parse(fs.readFileSync(process.env.FAKE_KUBECTL_SCENARIO, "utf8"));
let stdin = "";
if (args.includes("-f") && args[args.indexOf("-f") + 1] === "-") stdin = fs.readFileSync(0, "utf8");
fs.appendFileSync(path.join(state, "calls.jsonl"), JSON.stringify({ args, stdin }) + "\n");

const index = rules.findIndex((r) => new RegExp(r.match).test(joined));
if (index < 0) {
  process.stderr.write(`fake kubectl: unexpected call: ${joined}\n`);
  process.exit(1);
}
const counter = path.join(state, `rule-${index}.count`);
const n = fs.existsSync(counter) ? Number(fs.readFileSync(counter, "utf8")) : 0;
fs.writeFileSync(counter, String(n + 1));
const responses = rules[index].responses;
const response = responses[Math.min(n, responses.length - 1)];
if (response.file) process.stdout.write(fs.readFileSync(response.file));
if (response.stdout) process.stdout.write(response.stdout);
if (response.stderr) process.stderr.write(response.stderr);
process.exit(response.code ?? 0);
