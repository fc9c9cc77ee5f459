/**
 * The policy pack as `pulumi preview --policy-pack policies` runs it: the CLI starts
 * `node @pulumi/pulumi/cmd/run-policy-pack <engine> <pack dir>` in the pack's directory (pulumi/pulumi
 * `sdk/nodejs/cmd/pulumi-language-nodejs/main.go`, `RunPlugin`: `cmd.Dir = req.Info.ProgramDirectory`
 * for analyzers), reads the port of the analyzer gRPC server the pack starts from its stdout, and
 * sends each resource to `Analyze` and all of them to `AnalyzeStack`. Properties go out as the engine
 * marshals them (`sdk/go/common/resource/plugin/analyzer_plugin.go`: secrets kept as secrets, keys
 * starting with `__` skipped) with the registration's options; `@pulumi/policy/server.js` unwraps the
 * secrets, so a policy knows of them only from `additionalSecretOutputs`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import type { RecordedResource } from "../../tools/mocks.js";
import { PROJECT_DIR } from "../../tools/harness.js";

/* eslint-disable @typescript-eslint/no-require-imports */
const analyzerrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb.js");
const analyzerproto = require("@pulumi/pulumi/proto/analyzer_pb.js");
const structproto = require("google-protobuf/google/protobuf/struct_pb.js");
/* eslint-enable @typescript-eslint/no-require-imports */

export const POLICY_PACK_DIR = path.join(PROJECT_DIR, "policies");

/** One diagnostic the analyzer returned. */
export interface AnalyzerVerdict {
  readonly policy: string;
  /** Logical name of the resource (from the URN), or "stack" for a stack policy that names none. */
  readonly resource: string;
  readonly level: "advisory" | "mandatory" | "remediate" | "disabled";
  readonly message: string;
}

export interface PolicyPackProcess {
  /** Analyze for every resource, then AnalyzeStack for all of them: what a preview runs. */
  analyze(resources: readonly RecordedResource[]): Promise<AnalyzerVerdict[]>;
  readonly loadMs: number;
  stop(): void;
}

const LEVELS = ["advisory", "mandatory", "disabled", "remediate"] as const;

/** Properties on the wire, as the engine sends them to an analyzer. */
async function wireProperties(inputs: Record<string, unknown>): Promise<any> {
  const visible = Object.fromEntries(Object.entries(inputs ?? {}).filter(([k]) => !k.startsWith("__")));
  return structproto.Struct.fromJavaScript(await pulumi.runtime.serializeProperties("analyze", visible));
}

function resourceOptions(r: RecordedResource): any {
  const o = new analyzerproto.AnalyzerResourceOptions();
  o.setProtect(r.options?.protect ?? false);
  o.setIgnorechangesList([...(r.options?.ignoreChanges ?? [])]);
  o.setAdditionalsecretoutputsList([...(r.options?.additionalSecretOutputs ?? [])]);
  o.setDeletebeforereplacedefined(r.options?.deleteBeforeReplace ?? false);
  o.setDeletebeforereplace(r.options?.deleteBeforeReplace ?? false);
  o.setAliasesList([]);
  o.setCustomtimeouts(new analyzerproto.AnalyzerResourceOptions.CustomTimeouts());
  return o;
}

const nameOf = (urn: string) => urn.split("::").pop() ?? urn;

/** Starts the pack in `packDir` as the CLI does and connects to its analyzer server. */
export async function startPolicyPack(packDir = POLICY_PACK_DIR): Promise<PolicyPackProcess> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_NODEJS_PROJECT: "homelab-backup",
    PULUMI_NODEJS_STACK: "homelab",
  };
  delete env.NODE_OPTIONS;
  const child: ChildProcess = spawn(
    process.execPath,
    [require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] }), "127.0.0.1:1", packDir],
    { cwd: packDir, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n") && /^\d+$/.test(line.trim())) resolve(Number(line));
    });
    child.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}${out}`)));
  });
  const loadMs = performance.now() - started;
  const client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = <T>(method: string, req: unknown) =>
    new Promise<T>((resolve, reject) =>
      client[method](req, (err: unknown, resp: T) => (err ? reject(err) : resolve(resp))),
    );
  const verdicts = (resp: any, fallback: string): AnalyzerVerdict[] =>
    resp.getDiagnosticsList().map((d: any) => ({
      policy: d.getPolicyname(),
      resource: d.getUrn() ? nameOf(d.getUrn()) : fallback,
      level: LEVELS[d.getEnforcementlevel()],
      message: d.getMessage(),
    }));

  return {
    loadMs,
    async analyze(resources) {
      const out: AnalyzerVerdict[] = [];
      const stackResources = [];
      for (const r of resources) {
        const urn = r.urn ?? `urn:pulumi:homelab::homelab-backup::${r.type}::${r.name}`;
        const props = await wireProperties(r.inputs);
        const req = new analyzerproto.AnalyzeRequest();
        req.setType(r.type);
        req.setName(r.name);
        req.setUrn(urn);
        req.setProperties(props);
        req.setOptions(resourceOptions(r));
        out.push(...verdicts(await call("analyze", req), r.name));
        const sr = new analyzerproto.AnalyzerResource();
        sr.setType(r.type);
        sr.setName(r.name);
        sr.setUrn(urn);
        sr.setProperties(props);
        sr.setOptions(resourceOptions(r));
        sr.setDependenciesList([...(r.options?.dependencies ?? [])]);
        stackResources.push(sr);
      }
      const stackReq = new analyzerproto.AnalyzeStackRequest();
      stackReq.setResourcesList(stackResources);
      out.push(...verdicts(await call("analyzeStack", stackReq), "stack"));
      return out;
    },
    stop() {
      client.close();
      child.kill();
    },
  };
}
