#!/bin/sh
# Takes an etcd snapshot through the Talos API and hands it to offload.sh, which uploads it with the
# same staging, verification and integrity record as the k3s offload.
#
# POSIX sh on purpose: the job runs in the stock rclone image (Alpine busybox ash, no bash).
#   1. fetch talosctl TALOSCTL_VERSION for this CPU from the Talos release page and refuse it unless
#      its sha256 is the pinned one (TALOSCTL_SHA256_AMD64 / TALOSCTL_SHA256_ARM64);
#   2. `talosctl etcd snapshot <file>`: the client certificate comes from the talosconfig that Talos
#      writes into the Secret of the job's Talos ServiceAccount (role os:etcd:backup), mounted at
#      /var/run/secrets/talos.dev (talosctl's last default config path). talosctl streams the
#      snapshot to <file>.part and renames it only when complete;
#   3. offload.sh with ETCD_CHECK=trailer: the snapshot must end in the sha256 of its own content,
#      the checksum etcd appends to every snapshot it streams, or nothing is uploaded.
#
# Environment: WORK_DIR (required: a disk-backed scratch directory, emptied per run), HUB_BUCKET
# (required), SNAPSHOT_LABEL (talos: the directory under etcd-snapshots/ and part of the file name),
# TALOSCTL_VERSION, TALOSCTL_SHA256_AMD64, TALOSCTL_SHA256_ARM64 (required), TALOSCTL_URL_BASE
# (https://github.com/siderolabs/talos/releases/download), TALOS_NODE (optional: the control-plane node
# to ask; default: whichever node the talosconfig endpoint reaches), OFFLOAD_SCRIPT (offload.sh beside
# this script), RCLONE (rclone), ARCH (from uname -m), plus offload.sh's hub settings.
set -eu
# shellcheck disable=SC3040
if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi

: "${WORK_DIR:?WORK_DIR is required}"
: "${HUB_BUCKET:?HUB_BUCKET is required}"
: "${TALOSCTL_VERSION:?TALOSCTL_VERSION is required}"
SNAPSHOT_LABEL="${SNAPSHOT_LABEL:-talos}"
TALOSCTL_URL_BASE="${TALOSCTL_URL_BASE:-https://github.com/siderolabs/talos/releases/download}"
OFFLOAD_SCRIPT="${OFFLOAD_SCRIPT:-$(dirname "$0")/offload.sh}"
RCLONE="${RCLONE:-rclone}"
ARCH="${ARCH:-$(uname -m)}"

log() { printf '%s talos-snapshot: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

case "$ARCH" in
  x86_64 | amd64) arch=amd64; want="${TALOSCTL_SHA256_AMD64:?TALOSCTL_SHA256_AMD64 is required}" ;;
  aarch64 | arm64) arch=arm64; want="${TALOSCTL_SHA256_ARM64:?TALOSCTL_SHA256_ARM64 is required}" ;;
  *) log "no pinned talosctl for CPU $ARCH (amd64 and arm64 only)"; exit 2 ;;
esac
case "$want" in
  *[!0-9a-f]* | "") log "TALOSCTL_SHA256 for $arch is not a sha256 hex digest"; exit 2 ;;
esac
[ "${#want}" -eq 64 ] || { log "TALOSCTL_SHA256 for $arch is not 64 hex characters"; exit 2; }

mkdir -p "$WORK_DIR/bin" "$WORK_DIR/snapshots"
talosctl="$WORK_DIR/bin/talosctl"
url="$TALOSCTL_URL_BASE/$TALOSCTL_VERSION/talosctl-linux-$arch"
rm -f "$talosctl" "$talosctl.download"
if ! "$RCLONE" copyurl --retries 3 "$url" "$talosctl.download"; then
  log "FAIL download of $url"
  exit 1
fi
got="$(sha256sum "$talosctl.download" | cut -d' ' -f1)"
if [ "$got" != "$want" ]; then
  log "FAIL talosctl $TALOSCTL_VERSION ($arch) has sha256 $got, pinned $want: refusing to run it"
  rm -f "$talosctl.download"
  exit 1
fi
chmod 0555 "$talosctl.download"
mv "$talosctl.download" "$talosctl"

file="etcd-snapshot-${SNAPSHOT_LABEL}-$(date -u +%Y%m%dT%H%M%SZ)"
log "taking etcd snapshot $file through the Talos API${TALOS_NODE:+ of node $TALOS_NODE}"
if [ -n "${TALOS_NODE:-}" ]; then
  set -- --nodes "$TALOS_NODE"
else
  set --
fi
if ! "$talosctl" "$@" etcd snapshot "$WORK_DIR/snapshots/$file" >&2; then
  log "FAIL talosctl etcd snapshot (is kubernetesTalosAPIAccess enabled with os:etcd:backup for this namespace?)"
  exit 1
fi
[ -s "$WORK_DIR/snapshots/$file" ] || { log "FAIL talosctl reported success but wrote no snapshot"; exit 1; }

# The snapshot is complete (talosctl renamed it from .part): no age or stability wait is needed.
SNAPSHOT_DIR="$WORK_DIR/snapshots" NODE_NAME="$SNAPSHOT_LABEL" ETCD_CHECK=trailer MIN_AGE_SECONDS=0 STABLE_SECONDS=0 \
  exec sh "$OFFLOAD_SCRIPT"
