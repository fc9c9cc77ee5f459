/**
 * The Pulumi SDK's own dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`), started the way the
 * Pulumi CLI starts it, with a small typed client that speaks to it the way the engine does. A dynamic
 * resource's provider then runs from the text `__provider` its registration carries, loaded by the
 * host's `getProvider` (`requireFromString(text).handler()`), not from this repository's modules: what
 * breaks only once a provider is serialized (a free variable the closure serializer did not capture, a
 * path that depends on the working directory) shows here.
 *
 * How the CLI starts it (pulumi/pulumi):
 * - `pkg/resource/plugin/provider_plugin.go`, `NewProvider`: `newPlugin(ctx, ctx.Pwd, path, prefix,
 *   apitype.ResourcePlugin, []string{host.ServerAddr()}, env, …)`: one argument, the engine's gRPC address,
 *   and `PULUMI_NODEJS_PROJECT`/`PULUMI_PROJECT` in the environment for the `pulumi-nodejs` package.
 * - `sdk/go/common/resource/plugin/plugin.go`, `ExecPlugin`: `cmd.Dir = pwd`. `ctx.Pwd` comes from
 *   `pkg/engine/deployment.go`, `ProjectInfoContext`, through `pkg/engine/project.go`, `getPwdMain`: the
 *   project's root (the folder of `Pulumi.yaml`), or the folder of `main` when Pulumi.yaml sets one.
 * - The plugin binary `pulumi-resource-pulumi-nodejs` (`sdk/nodejs/dist/`) is a shell script that runs
 *   `node $(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))") $@`: the SDK
 *   resolved from that working directory, run by the `node` on PATH.
 * - The host prints its port on stdout (`cmd/dynamic-provider/index.js`, `main`); the engine dials it.
 *
 * How the engine talks to it (`pkg/resource/plugin/provider_plugin.go`):
 * - `Configure` with `acceptSecrets: true`; the host answers `acceptSecrets: false`.
 * - Every later request's properties are then marshalled with `KeepSecrets: false`, which
 *   `sdk/go/common/resource/plugin/rpc.go` (`MarshalPropertyValue`) turns into the plain value: the host
 *   never sees a secret wrapper. This client does the same, so callers may pass properties with the SDK's
 *   secret wrappers (as the mocks record them) and the host gets plain values.
 * - Check(olds = old inputs, news = new inputs); Diff(olds = old outputs, news = checked inputs, old
 *   inputs); Create(checked inputs); Read(id, properties = old outputs, inputs = old inputs) on a refresh;
 *   Update(id, olds = old outputs, news = checked inputs, old inputs); Delete(id, properties = outputs,
 *   old inputs). `__provider` travels in all of them as an ordinary input and output.
 *
 * The host never dials the address it is given (it only insists on having one), but the CLI gives it
 * a live engine, so a minimal Engine server (Log, GetRootResource, SetRootResource) runs on loopback and
 * keeps whatever the host logs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb.js";
import * as structproto from "google-protobuf/google/protobuf/struct_pb.js";
import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb.js";
import * as engproto from "@pulumi/pulumi/proto/engine_pb.js";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb.js";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb.js";
import * as provproto from "@pulumi/pulumi/proto/provider_pb.js";
import { expect } from "vitest";
import { unwrapSecrets, type RecordedResource } from "../../tools/mocks.js";

export type PropertyMap = Record<string, any>;

export interface DiffResult {
  readonly changes: "none" | "some" | "unknown";
  readonly replaces: string[];
}

export interface DynamicProviderHost {
  /** The `@pulumi/pulumi` version the host reports (GetPluginInfo). */
  readonly version: string;
  /** What the host answered to Configure: false for the SDK's host, so every property is sent plain. */
  readonly acceptsSecrets: boolean;
  /** The host's working directory. */
  readonly cwd: string;
  check(urn: string, olds: PropertyMap, news: PropertyMap): Promise<{ inputs: PropertyMap; failures: string[] }>;
  diff(
    urn: string,
    id: string,
    oldOutputs: PropertyMap,
    news: PropertyMap,
    oldInputs: PropertyMap,
  ): Promise<DiffResult>;
  create(urn: string, inputs: PropertyMap): Promise<{ id: string; outputs: PropertyMap }>;
  /** A refresh: the outputs the host reads back, and the inputs if the provider returned new ones. */
  read(
    urn: string,
    id: string,
    outputs: PropertyMap,
    inputs: PropertyMap,
  ): Promise<{ id: string; outputs: PropertyMap; inputs?: PropertyMap }>;
  update(
    urn: string,
    id: string,
    oldOutputs: PropertyMap,
    news: PropertyMap,
    oldInputs: PropertyMap,
  ): Promise<{ outputs: PropertyMap }>;
  delete(urn: string, id: string, outputs: PropertyMap, oldInputs: PropertyMap): Promise<void>;
  /** What the host wrote to stderr so far (the host prints a failing call's stack there). */
  stderr(): string;
  /** Messages the host sent to the engine's Log. */
  readonly engineLogs: string[];
  stop(): Promise<void>;
}

/** The repository root: the folder of Pulumi.yaml, which has no `main`, so the CLI's plugin working directory. */
export const PROJECT_DIR = path.resolve(__dirname, "../..");

/** `urn:pulumi:<stack>::<project>::<parent$type>::<name>` → the resource's own type and name. */
function urnParts(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  return { type: parts[2].split("$").pop()!, name: parts.slice(3).join("::") };
}

async function startEngine(): Promise<{ address: string; logs: string[]; server: grpc.Server }> {
  const logs: string[] = [];
  let root = "";
  const server = new grpc.Server();
  const impl: Partial<engrpc.IEngineServer> = {
    log: (call, cb) => {
      logs.push(`${call.request.getSeverity()} ${call.request.getUrn()} ${call.request.getMessage()}`);
      cb(null, new emptyproto.Empty());
    },
    getRootResource: (_call, cb) => cb(null, new engproto.GetRootResourceResponse().setUrn(root)),
    setRootResource: (call, cb) => {
      root = call.request.getUrn();
      cb(null, new engproto.SetRootResourceResponse());
    },
  };
  server.addService(engrpc.EngineService, impl as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, logs, server };
}

/** Reads the first line the host prints on stdout: its port. */
function readPort(child: ChildProcess, stderr: () => string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`dynamic-provider host: ${why}\n${stderr()}`));
    };
    const timer = setTimeout(() => fail(`no port on stdout within ${timeoutMs / 1000} s`), timeoutMs);
    child.stdout!.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      const port = Number(out.slice(0, nl).trim());
      if (Number.isInteger(port) && port > 0) resolve(port);
      else fail(`expected a port on stdout, got ${JSON.stringify(out.slice(0, nl))}`);
    });
    child.once("exit", (code, signal) => fail(`exited (${code ?? signal}) before printing its port`));
  });
}

/**
 * Starts the host as the CLI does (working directory `cwd`, default the project root; the engine's
 * address as its one argument), then GetPluginInfo and Configure as the engine does before any resource call.
 */
export async function startDynamicProviderHost(
  opts: { cwd?: string; project?: string; timeoutMs?: number } = {},
): Promise<DynamicProviderHost> {
  const cwd = opts.cwd ?? PROJECT_DIR;
  const project = opts.project ?? "homelab-backup";
  const engine = await startEngine();
  // As the launcher script: the SDK resolved from the working directory, run by `node` from PATH.
  const script = createRequire(path.join(cwd, "package.json")).resolve("@pulumi/pulumi/cmd/dynamic-provider");
  const child = spawn("node", [script, engine.address], {
    cwd,
    env: { ...process.env, PULUMI_NODEJS_PROJECT: project, PULUMI_PROJECT: project },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let errText = "";
  child.stderr!.on("data", (d) => (errText += d));
  const stderr = () => errText;
  let client: provrpc.ResourceProviderClient | undefined;
  const stop = async () => {
    client?.close();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    engine.server.forceShutdown();
  };
  try {
    const port = await readPort(child, stderr, opts.timeoutMs ?? 60_000);
    client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const c = client;
    /** One unary call; a failure carries the host's stderr (where it prints the failing call's stack). */
    const call = <Res>(send: (cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown): Promise<Res> =>
      new Promise((resolve, reject) => {
        const from = errText.length;
        send((err, res) => {
          if (!err) return resolve(res);
          const printed = errText.slice(from).trim();
          const e = new Error(
            `${err.details || err.message}${printed ? `\n--- dynamic-provider host stderr\n${printed}` : ""}`,
          );
          (e as any).code = err.code;
          reject(e);
        });
      });

    const info = await call<plugproto.PluginInfo>((cb) => c.getPluginInfo(new emptyproto.Empty(), cb));
    const configured = await call<provproto.ConfigureResponse>((cb) =>
      c.configure(
        new provproto.ConfigureRequest()
          .setAcceptsecrets(true)
          .setAcceptresources(true)
          .setSendsOldInputs(true)
          .setSendsOldInputsToDelete(true)
          .setArgs(structproto.Struct.fromJavaScript({})),
        cb,
      ),
    );
    const acceptsSecrets = configured.getAcceptsecrets();
    // As the engine marshals for a provider that does not accept secrets: each secret becomes its plain value.
    const wire = (props: PropertyMap) =>
      structproto.Struct.fromJavaScript(acceptsSecrets ? props : unwrapSecrets(props));
    const named = <T extends { setUrn(u: string): T; setName(n: string): T; setType(t: string): T }>(
      req: T,
      urn: string,
    ) => {
      const { type, name } = urnParts(urn);
      return req.setUrn(urn).setName(name).setType(type);
    };
    const js = (s: structproto.Struct | undefined): PropertyMap => (s ? (s.toJavaScript() as PropertyMap) : {});

    return {
      version: info.getVersion(),
      acceptsSecrets,
      cwd,
      engineLogs: engine.logs,
      stderr,
      stop,
      async check(urn, olds, news) {
        const req = named(new provproto.CheckRequest(), urn).setOlds(wire(olds)).setNews(wire(news));
        const res = await call<provproto.CheckResponse>((cb) => c.check(req, cb));
        return {
          inputs: js(res.getInputs()),
          failures: res.getFailuresList().map((f) => `${f.getProperty()}: ${f.getReason()}`),
        };
      },
      async diff(urn, id, oldOutputs, news, oldInputs) {
        const req = named(new provproto.DiffRequest(), urn)
          .setId(id)
          .setOlds(wire(oldOutputs))
          .setNews(wire(news))
          .setOldInputs(wire(oldInputs));
        const res = await call<provproto.DiffResponse>((cb) => c.diff(req, cb));
        const D = provproto.DiffResponse.DiffChanges;
        const changes = res.getChanges();
        return {
          changes: changes === D.DIFF_NONE ? "none" : changes === D.DIFF_SOME ? "some" : "unknown",
          replaces: res.getReplacesList(),
        };
      },
      async create(urn, inputs) {
        const req = named(new provproto.CreateRequest(), urn).setProperties(wire(inputs));
        const res = await call<provproto.CreateResponse>((cb) => c.create(req, cb));
        return { id: res.getId(), outputs: js(res.getProperties()) };
      },
      async read(urn, id, outputs, inputs) {
        const req = named(new provproto.ReadRequest(), urn)
          .setId(id)
          .setProperties(wire(outputs))
          .setInputs(wire(inputs));
        const res = await call<provproto.ReadResponse>((cb) => c.read(req, cb));
        return {
          id: res.getId(),
          outputs: js(res.getProperties()),
          ...(res.hasInputs() ? { inputs: js(res.getInputs()) } : {}),
        };
      },
      async update(urn, id, oldOutputs, news, oldInputs) {
        const req = named(new provproto.UpdateRequest(), urn)
          .setId(id)
          .setOlds(wire(oldOutputs))
          .setNews(wire(news))
          .setOldInputs(wire(oldInputs));
        const res = await call<provproto.UpdateResponse>((cb) => c.update(req, cb));
        return { outputs: js(res.getProperties()) };
      },
      async delete(urn, id, outputs, oldInputs) {
        const req = named(new provproto.DeleteRequest(), urn)
          .setId(id)
          .setProperties(wire(outputs))
          .setOldInputs(wire(oldInputs));
        await call<unknown>((cb) => c.delete(req, cb));
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A dynamic resource through its life in a test: what it was registered with, then the engine's view of it. */
export interface ResourceLife {
  readonly r: RecordedResource;
  inputs: PropertyMap;
  readonly id: string;
  outputs: PropertyMap;
}

/**
 * `pulumi up` (Check, Create), `pulumi refresh` (Read), then `pulumi preview` (Check, Diff) of a
 * registered dynamic resource: the server holds what it wants, the refresh changes nothing and the
 * preview finds no change.
 */
export async function createAndRefresh(host: DynamicProviderHost, r: RecordedResource): Promise<ResourceLife> {
  const urn = r.urn!;
  const checked = await host.check(urn, {}, r.inputs);
  expect(checked.failures).toEqual([]);
  expect(checked.inputs.__provider).toBe(r.inputs.__provider);
  const created = await host.create(urn, checked.inputs);
  expect(created.id).toBe(checked.inputs.resourceId);
  // The configurator read the server back after applying: it holds what the resource wants.
  expect(created.outputs.state).toEqual(checked.inputs.want);
  const refreshed = await host.read(urn, created.id, created.outputs, checked.inputs);
  expect(refreshed).toEqual({ id: created.id, outputs: created.outputs });
  const again = await host.check(urn, checked.inputs, r.inputs);
  expect(await host.diff(urn, created.id, refreshed.outputs, again.inputs, checked.inputs)).toEqual({
    changes: "none",
    replaces: [],
  });
  return { r, inputs: checked.inputs, id: created.id, outputs: refreshed.outputs };
}
