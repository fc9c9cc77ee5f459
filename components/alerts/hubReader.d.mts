/** Types of components/alerts/hubReader.mjs (plain ESM, run by the audit pod without a build). */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}
export interface ReaderIo {
  rclone: (args: string[], input?: string) => Promise<RunResult>;
}
export interface ItemResult {
  found: boolean;
  valid: boolean;
  timestamp?: number;
  size?: number;
  count?: number;
  firstSeen?: number;
  why?: string;
}
export interface Entry {
  Name: string;
  Path: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
  Tier?: string;
}
export const KEYCHECK: string;
export const KEYCHECK_TEXT: string;
export const OFFSITE_RECORD: string;
export const NO_HEAD_FLAGS: string[];
export class ReadError extends Error {}
export function longhornVolumePath(prefix: string, volume: string): string;
export function mirrorRecordKey(prefix: string): string;
export function epoch(s: unknown): number | undefined;
export function ls(io: ReaderIo, path: string, flags?: string[]): Promise<Entry[]>;
export function cat(io: ReaderIo, dir: string, name: string): Promise<string>;
export function catJson(io: ReaderIo, dir: string, name: string): Promise<any>;
export function guarded<T>(fn: () => Promise<T>): Promise<T | { error: string }>;
export function listLonghornVolumes(io: ReaderIo, bucket: string, prefix: string): Promise<string[]>;
export function readLonghornVolume(io: ReaderIo, bucket: string, prefix: string, volume: string): Promise<ItemResult>;
export function readPostgresDump(io: ReaderIo, bucket: string, prefix: string, dump: string): Promise<ItemResult>;
export function readEtcd(
  io: ReaderIo,
  bucket: string,
  prefix: string,
  expectedNodes: string[],
): Promise<Map<string, ItemResult | { error: string }>>;
export function listVeleroBackups(io: ReaderIo, bucket: string, prefix: string): Promise<string[]>;
export function readVeleroSchedule(
  io: ReaderIo,
  bucket: string,
  prefix: string,
  schedule: string,
  backupDirs: string[],
): Promise<ItemResult>;
export function readMirror(io: ReaderIo, bucket: string, prefix: string): Promise<ItemResult>;
export function readOffsite(io: ReaderIo, remote: string, encryption: boolean): Promise<ItemResult>;
export function readUsage(io: ReaderIo, bucket: string): Promise<Map<string, { bytes: number; objects: number }>>;
export const PVC_INVENTORY_FORMAT: string;
export const DRILL_RECORD_FORMAT: string;
export interface PvcRef {
  namespace: string;
  pvc: string;
  storageClass?: string;
  size?: string;
}
export interface DrillJudgement {
  state: "passed" | "failed" | "not recorded" | "unreadable";
  finishedAt?: string;
  ageSeconds?: number;
  restoreSeconds?: number;
  restored?: string;
  reason?: string;
}
export interface InventoryJudgement {
  state: "current" | "old" | "not recorded" | "unreadable";
  takenAt?: string;
  ageSeconds?: number;
  total?: number;
  uncovered?: PvcRef[];
  ignored?: PvcRef[];
  reason?: string;
}
export function readStatusRecord(io: ReaderIo, bucket: string, key: string): Promise<any>;
export function putJson(io: ReaderIo, bucket: string, key: string, value: unknown): Promise<void>;
export function judgeDrillRecord(rec: any, cls: string, item: string, now: number): DrillJudgement;
export function judgePvcInventory(rec: any, now: number, maxAgeSeconds: number): InventoryJudgement;
