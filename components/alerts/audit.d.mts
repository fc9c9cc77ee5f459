/** Types of what TypeScript imports from components/alerts/audit.mjs (plain ESM, run by the audit pod without a build). */
export interface PvcInventoryEntry {
  namespace: string;
  pvc: string;
  storageClass?: string;
  size?: string;
  coveredBy: string[];
  ignored?: true;
}
export interface PvcInventory {
  format: string;
  takenAt: string;
  pvcs: PvcInventoryEntry[];
}
export function pvcInventory(
  spec: object,
  k8s: { pvcs?: object[]; [kind: string]: unknown },
  nowMs: number,
): PvcInventory;
