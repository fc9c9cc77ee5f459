/**
 * Talos etcd snapshots: what the cluster must allow, the Talos ServiceAccount the job uses, and the
 * pinned talosctl. Pure data; the component is talosEtcdSnapshot.ts, the script talos-snapshot.sh.
 *
 * Talos facts (siderolabs/talos v1.13.9):
 * - A `ServiceAccount` (talos.dev/v1alpha1) with `spec.roles` makes Talos write a Secret of the same
 *   name and namespace whose `config` key is a talosconfig for those roles, endpoint `talos.default`
 *   (`internal/app/machined/pkg/controllers/kubeaccess/serviceaccount/crd_controller.go`). talosctl
 *   reads it from `/var/run/secrets/talos.dev/config`, its last default path
 *   (`pkg/machinery/client/config/path.go`, `constants.ServiceAccountMountPath`).
 * - `os:etcd:backup` is the least role allowed `/machine.MachineService/EtcdSnapshot`
 *   (`internal/app/machined/pkg/system/services/machined.go`; `pkg/machinery/role/role.go`).
 * - The namespace and role must be allowed by the machine config of the control-plane nodes:
 *   `machine.features.kubernetesTalosAPIAccess` up to v1.13, the `KubeTalosAPIAccessConfig` document
 *   from v1.14 (`pkg/machinery/config/types/k8s/talos_api_access.go`); setting both is an error.
 * - `talosctl etcd snapshot <path>` streams to `<path>.part` and renames it when the size shows etcd's
 *   sha256 trailer (`cmd/talosctl/cmd/talos/etcd.go`); siderolabs/talos-backup does the same
 *   (`pkg/talos/talos.go`) and ships the same ServiceAccount shape (`cronjob.sample.yaml`).
 */

/** The only Talos role the job gets. */
export const TALOS_ETCD_BACKUP_ROLE = "os:etcd:backup";

/** Where the pod mounts the Secret Talos writes for the ServiceAccount. */
export const TALOS_SECRET_MOUNT_PATH = "/var/run/secrets/talos.dev";

/**
 * talosctl release the job downloads and the sha256 of each binary, from siderolabs' own Homebrew tap
 * (github.com/siderolabs/homebrew-tap `Formula/talosctl@1.13.rb`, commit
 * 151fd2dae706077fd2f7d1d2341919e09abe60a2). The job refuses any other bytes.
 */
export const TALOSCTL = {
  version: "v1.13.10",
  sha256: {
    amd64: "28e9ccd9aebd690fa03d8cf2582221d87ea38b2a1704f411d75a03589c58f2aa",
    arm64: "3869c9fb411f3680976cc086b342e517bcf4bc720f7e5371611f3e49d95f1994",
  },
  releaseUrl: "https://github.com/siderolabs/talos/releases/download",
} as const;

/** Directory under etcd-snapshots/ (and the node label in each record) of the Talos snapshots. */
export const TALOS_SNAPSHOT_LABEL = "talos";

/** The Talos ServiceAccount custom resource: exactly the etcd-backup role, nothing else. */
export function talosServiceAccount(name: string, namespace: string, labels: Record<string, string>) {
  return {
    apiVersion: "talos.dev/v1alpha1",
    kind: "ServiceAccount",
    metadata: { name, namespace, labels },
    spec: { roles: [TALOS_ETCD_BACKUP_ROLE] },
  };
}

/** The machine-config patch that lets the job's namespace use the role, for both Talos config forms. */
export function talosMachineConfigPatch(namespace: string): string {
  return [
    "Talos up to v1.13 (`machine.features.kubernetesTalosAPIAccess`, on every control-plane node):",
    "",
    "```yaml",
    "machine:",
    "  features:",
    "    kubernetesTalosAPIAccess:",
    "      enabled: true",
    `      allowedRoles: [${TALOS_ETCD_BACKUP_ROLE}]`,
    `      allowedKubernetesNamespaces: [${namespace}]`,
    "```",
    "",
    "Talos v1.14 and later (a separate document; do not also set the v1alpha1 field):",
    "",
    "```yaml",
    "apiVersion: v1alpha1",
    "kind: KubeTalosAPIAccessConfig",
    `allowedRoles: [${TALOS_ETCD_BACKUP_ROLE}]`,
    `allowedKubernetesNamespaces: [${namespace}]`,
    "```",
    "",
    "Apply it with `talosctl -n <control-plane IPs> patch machineconfig --patch @talos-etcd-backup.yaml`. If your patch already",
    "allows other roles or namespaces, add these to its lists.",
  ].join("\n");
}
