/**
 * The engine's side of a program run, offline: a gRPC ResourceMonitor and Engine on loopback, built
 * on the SDK's generated services (`@pulumi/pulumi/proto/*_grpc_pb`), that the program started by
 * tools/languageHost.ts connects to exactly as it connects to the CLI. Registrations are answered by
 * the SDK's own MockMonitor with the recording mocks of tools/mocks.ts, so the program process runs
 * the SDK in its real (non-mock) mode and only the provider answers are stand-ins.
 */
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import { recordRegistrations, type RecordingMocks } from "./mocks.js";
import { resourceUrn } from "./urns.js";

/* eslint-disable @typescript-eslint/no-require-imports */
const resrpc = require("@pulumi/pulumi/proto/resource_grpc_pb.js");
const resproto = require("@pulumi/pulumi/proto/resource_pb.js");
const enginerpc = require("@pulumi/pulumi/proto/engine_grpc_pb.js");
const engineproto = require("@pulumi/pulumi/proto/engine_pb.js");
const emptyproto = require("google-protobuf/google/protobuf/empty_pb.js");
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks.js");
/* eslint-enable @typescript-eslint/no-require-imports */

/** One message the program logged through the engine (warnings, errors, a RunError's text). */
export interface EngineLog {
  readonly severity: "debug" | "info" | "warning" | "error";
  readonly message: string;
  readonly urn: string;
}

const SEVERITY = ["debug", "info", "warning", "error"] as const;

export interface OfflineEngine {
  readonly monitorAddress: string;
  readonly engineAddress: string;
  readonly logs: EngineLog[];
  /** The stack's outputs as the program registered them (secrets still wrapped), once it has. */
  stackOutputs(): Record<string, unknown> | undefined;
  stop(): Promise<void>;
}

type Handler = (call: { request: any }, callback: (err: any, resp?: any) => void) => void;

/** Starts the monitor and engine services on 127.0.0.1 for one run of `project`/`stack`. */
export async function startOfflineEngine(rec: RecordingMocks, project: string, stack: string): Promise<OfflineEngine> {
  const monitor = new MockMonitor(rec.mocks);
  // MockMonitor builds URNs from the SDK's in-process settings, which this process does not have, and with
  // only the parent's own type before a child's: name them here as the engine does (tools/urns.ts).
  monitor.newUrn = (parent: string, type: string, name: string) => resourceUrn(stack, project, parent, type, name);
  recordRegistrations(monitor, rec);

  let rootUrn = "";
  let outputs: Record<string, unknown> | undefined;
  const logs: EngineLog[] = [];
  const delegate =
    (method: string): Handler =>
    (call, callback) =>
      monitor[method](call.request, callback);

  const monitorService: Record<string, Handler> = {
    getDeploymentInfo: delegate("getDeploymentInfo"),
    supportsFeature: (call, callback) => {
      const resp = new resproto.SupportsFeatureResponse();
      // As the SDK's own mocks: every feature but output values, so inputs arrive as plain values.
      resp.setHassupport(call.request.getId() !== "outputValues");
      callback(null, resp);
    },
    invoke: delegate("invoke"),
    readResource: delegate("readResource"),
    registerResource: delegate("registerResource"),
    registerResourceOutputs: (call, callback) => {
      const urn: string = call.request.getUrn();
      if (urn === rootUrn || urn.split("::")[2] === "pulumi:pulumi:Stack")
        outputs = pulumi.runtime.deserializeProperties(call.request.getOutputs());
      monitor.registerResourceOutputs(call.request, (err: unknown) => callback(err, new emptyproto.Empty()));
    },
    registerPackage: delegate("registerPackage"),
    signalAndWaitForShutdown: (_call, callback) => callback(null, new emptyproto.Empty()),
  };
  const engineService: Record<string, Handler> = {
    log: (call, callback) => {
      const r = call.request;
      logs.push({ severity: SEVERITY[r.getSeverity()] ?? "info", message: r.getMessage(), urn: r.getUrn() });
      callback(null, new emptyproto.Empty());
    },
    getRootResource: (_call, callback) => {
      const resp = new engineproto.GetRootResourceResponse();
      resp.setUrn(rootUrn);
      callback(null, resp);
    },
    setRootResource: (call, callback) => {
      rootUrn = call.request.getUrn();
      callback(null, new engineproto.SetRootResourceResponse());
    },
  };

  const server = new grpc.Server({ "grpc.max_receive_message_length": 1 << 30 });
  server.addService(resrpc.ResourceMonitorService, monitorService as grpc.UntypedServiceImplementation);
  server.addService(enginerpc.EngineService, engineService as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const address = `127.0.0.1:${port}`;
  return {
    monitorAddress: address,
    engineAddress: address,
    logs,
    stackOutputs: () => outputs,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 2000).unref();
      }),
  };
}
