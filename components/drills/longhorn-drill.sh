#!/bin/sh
# jq programs name their own $variables: single quotes on purpose.
# shellcheck disable=SC2016
# Longhorn restore drill: for each chosen PVC, restores the newest Completed Longhorn backup of its
# volume into a new scratch Volume (spec.fromBackup = the Backup's status.url), waits until the
# restore is done (status.restoreRequired false, volume detached), binds it read-only to a short-lived
# pod through a static PersistentVolume (CSI driver.longhorn.io) and reads the files on it (at least
# DRILL_MIN_FILES must read back). Nothing of the source volume is touched.
# Always, on success, failure, timeout or signal: the pod, the claim, the PersistentVolume and the
# scratch Volume are deleted (trap). Exits 0 when every PVC restored and read, 1 otherwise.
#
# Environment: DRILL_PVCS ("namespace/name ...", required), DRILL_NAMESPACE (where the reader pod and
# its claim live, required), DRILL_READER_IMAGE (required), LONGHORN_NAMESPACE (longhorn-system),
# DRILL_MIN_FILES (1), DRILL_MAX_FILES (200: files read per volume), DRILL_TIMEOUT_SECONDS (3600, per
# step), DRILL_POLL_SECONDS (10), DRILL_RUN_ID (the current Unix time), KUBECTL (kubectl), JQ (jq).
set -eu
# shellcheck disable=SC3040
if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi

: "${DRILL_PVCS:?DRILL_PVCS is required}" "${DRILL_NAMESPACE:?DRILL_NAMESPACE is required}" "${DRILL_READER_IMAGE:?DRILL_READER_IMAGE is required}"
LNS=${LONGHORN_NAMESPACE:-longhorn-system}
MIN_FILES=${DRILL_MIN_FILES:-1}
MAX_FILES=${DRILL_MAX_FILES:-200}
TIMEOUT=${DRILL_TIMEOUT_SECONDS:-3600}
POLL=${DRILL_POLL_SECONDS:-10}
RUN_ID=${DRILL_RUN_ID:-$(date +%s)}
KUBECTL=${KUBECTL:-kubectl}
JQ=${JQ:-jq}

log() {
  drill_record_note "$*"
  printf '%s longhorn-drill: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}
# shellcheck source-path=SCRIPTDIR source=drill-record.sh
. "$(dirname "$0")/drill-record.sh"
drill_record_begin
k() { "$KUBECTL" "$@"; }
work=$(mktemp -d "${TMPDIR:-/tmp}/longhorn-drill.XXXXXX")
created=""

# Deletes what this run created, newest first: pod, claim, PersistentVolume, Volume.
cleanup() {
  status=$?
  trap - EXIT INT TERM
  for name in $created; do
    k -n "$DRILL_NAMESPACE" delete pod "$name" --ignore-not-found --wait=true --timeout=120s > /dev/null 2>&1 || log "warning: could not delete pod $name"
    k -n "$DRILL_NAMESPACE" delete persistentvolumeclaim "$name" --ignore-not-found --wait=true --timeout=120s > /dev/null 2>&1 || log "warning: could not delete claim $name"
    k delete persistentvolume "$name" --ignore-not-found --wait=true --timeout=120s > /dev/null 2>&1 || log "warning: could not delete PersistentVolume $name"
    if k -n "$LNS" delete volumes.longhorn.io "$name" --ignore-not-found --wait=true --timeout=300s > /dev/null 2>&1; then
      log "removed scratch volume $name"
    else
      log "warning: could not delete Longhorn volume $name"
      [ "$status" -ne 0 ] || status=1
    fi
  done
  rm -rf "$work"
  log "cleaned up (exit $status)"
  drill_record_write "$status"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Polls `$1` (a jq program printing done|failed|wait) on `kubectl get <the rest>` until done, failed or
# timeout, and leaves the outcome in $state. Runs in this shell (no command substitution), so a
# SIGTERM reaches the trap between two polls and the cleanup runs.
wait_for() {
  program=$1
  shift
  started=$(date +%s)
  while :; do
    state="wait"
    if k "$@" -o json > "$work/obj.json" 2> "$work/get.err"; then
      state=$("$JQ" -r "$program" "$work/obj.json")
    fi
    case "$state" in done | failed) return 0 ;; esac
    if [ $(($(date +%s) - started)) -ge "$TIMEOUT" ]; then
      state="timeout"
      return 0
    fi
    sleep "$POLL"
  done
}

k -n "$LNS" get backups.longhorn.io -o json > "$work/backups.json" || { log "FAILED: cannot list Longhorn backups in $LNS"; exit 1; }

failed=0
for pvc in $DRILL_PVCS; do
  ns=${pvc%%/*}
  claim=${pvc#*/}
  if ! k -n "$ns" get persistentvolumeclaim "$claim" -o json > "$work/pvc.json"; then
    log "FAILED: cannot read PVC $pvc"
    failed=$((failed + 1))
    continue
  fi
  volume=$("$JQ" -r '.spec.volumeName // empty' "$work/pvc.json")
  [ -n "$volume" ] || { log "FAILED: PVC $pvc is not bound"; failed=$((failed + 1)); continue; }
  "$JQ" -c --arg vol "$volume" '[.items[] | select(.status.volumeName == $vol and .status.state == "Completed")]
    | sort_by(.status.backupCreatedAt) | last // empty | {name: .metadata.name, url: .status.url, size: .status.volumeSize, at: .status.backupCreatedAt}' \
    "$work/backups.json" > "$work/backup.json"
  if [ ! -s "$work/backup.json" ]; then
    log "FAILED: no Completed Longhorn backup of $volume (PVC $pvc)"
    failed=$((failed + 1))
    continue
  fi
  backup=$("$JQ" -r .name "$work/backup.json")
  # Longhorn volume names: lowercase, at most 40 characters here (room for Longhorn's suffixes).
  # The group label keeps the scratch volume out of Longhorn's `default` group, which a volume with no
  # job label joins; no job uses group homelab-backup-drill (components/longhorn/schema.ts DRILL_VOLUME_GROUP).
  name=$(printf 'drill-%s-%s' "$claim" "$RUN_ID" | tr 'A-Z_.' 'a-z--' | cut -c1-40 | sed 's/-*$//')
  created="$name $created"
  started=$(date +%s)
  "$JQ" -n --arg name "$name" --arg lns "$LNS" --slurpfile b "$work/backup.json" --arg pvc "$pvc" '{
    apiVersion: "longhorn.io/v1beta2", kind: "Volume",
    metadata: {name: $name, namespace: $lns,
      labels: {"app.kubernetes.io/part-of": "homelab-backup", "app.kubernetes.io/component": "drill-longhorn",
        "recurring-job-group.longhorn.io/homelab-backup-drill": "enabled"},
      annotations: {"homelab-backup/drill-source": $pvc}},
    spec: {fromBackup: $b[0].url, size: $b[0].size, numberOfReplicas: 1, frontend: "blockdev",
      dataEngine: "v1", accessMode: "rwo", staleReplicaTimeout: 30}
  }' > "$work/volume-$name.json"
  if ! k -n "$LNS" create -f - < "$work/volume-$name.json" > /dev/null; then
    log "FAILED: cannot create Longhorn volume $name"
    failed=$((failed + 1))
    continue
  fi
  log "restoring backup $backup of $volume (PVC $pvc) into Longhorn volume $name"
  wait_for '
    if .status.robustness == "faulted" or ([.status.conditions[]? | select(.type == "Restore" and .reason == "RestoreFailure")] | length > 0) then "failed"
    elif .status.restoreRequired == false and .status.state == "detached" then "done"
    else "wait" end' -n "$LNS" get volumes.longhorn.io "$name"
  took=$(($(date +%s) - started))
  if [ "$state" != "done" ]; then
    if [ "$state" = timeout ]; then
      log "FAILED: volume $name did not finish restoring within ${TIMEOUT}s"
    else
      log "FAILED: volume $name failed to restore after ${took}s: $("$JQ" -r '[.status.conditions[]? | select(.type == "Restore") | .message] | join("; ")' "$work/obj.json")"
    fi
    failed=$((failed + 1))
    continue
  fi
  log "volume $name restored in ${took}s"

  # A static PersistentVolume + claim for the restored volume, and a pod that mounts it read-only.
  fstype=$(k get persistentvolume "$volume" -o json 2> /dev/null | "$JQ" -r '.spec.csi.fsType // "ext4"') || fstype=ext4
  "$JQ" -n --arg name "$name" --arg ns "$DRILL_NAMESPACE" --slurpfile b "$work/backup.json" --arg fs "$fstype" \
    --arg image "$DRILL_READER_IMAGE" --arg min "$MIN_FILES" --arg max "$MAX_FILES" '
    {"app.kubernetes.io/part-of": "homelab-backup", "app.kubernetes.io/component": "drill-longhorn"} as $labels
    | {apiVersion: "v1", kind: "List", items: [
      {apiVersion: "v1", kind: "PersistentVolume", metadata: {name: $name, labels: $labels},
        spec: {capacity: {storage: $b[0].size}, accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Retain",
          storageClassName: "", volumeMode: "Filesystem", claimRef: {namespace: $ns, name: $name},
          csi: {driver: "driver.longhorn.io", volumeHandle: $name, fsType: $fs, readOnly: true}}},
      {apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: {name: $name, namespace: $ns, labels: $labels},
        spec: {accessModes: ["ReadWriteOnce"], storageClassName: "", volumeName: $name, resources: {requests: {storage: $b[0].size}}}},
      {apiVersion: "v1", kind: "Pod", metadata: {name: $name, namespace: $ns, labels: $labels},
        spec: {restartPolicy: "Never", automountServiceAccountToken: false, activeDeadlineSeconds: 1800,
          securityContext: {seccompProfile: {type: "RuntimeDefault"}},
          containers: [{name: "read", image: $image, imagePullPolicy: "IfNotPresent",
            command: ["sh", "-c", "find /data -xdev -type f | head -n \"$MAX\" | { n=0; while IFS= read -r f; do cat \"$f\" > /dev/null || { echo \"unreadable: $f\"; exit 1; }; n=$((n + 1)); done; echo \"read $n files\"; [ \"$n\" -ge \"$MIN\" ]; }"],
            env: [{name: "MIN", value: $min}, {name: "MAX", value: $max}],
            # Root with only the right to read any file: the restored files keep their owners.
            securityContext: {runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
              capabilities: {drop: ["ALL"], add: ["DAC_READ_SEARCH"]}},
            resources: {requests: {cpu: "10m", memory: "16Mi"}, limits: {cpu: "500m", memory: "64Mi"}},
            volumeMounts: [{name: "restored", mountPath: "/data", readOnly: true}]}],
          volumes: [{name: "restored", persistentVolumeClaim: {claimName: $name, readOnly: true}}]}}]}' > "$work/reader-$name.json"
  if ! k create -f - < "$work/reader-$name.json" > /dev/null; then
    log "FAILED: cannot create the reader pod for $name"
    failed=$((failed + 1))
    continue
  fi
  wait_for 'if .status.phase == "Succeeded" then "done" elif .status.phase == "Failed" then "failed" else "wait" end' \
    -n "$DRILL_NAMESPACE" get pod "$name"
  output=$(k -n "$DRILL_NAMESPACE" logs "$name" --tail=20 2> /dev/null || true)
  if [ "$state" != "done" ]; then
    log "FAILED: reading volume $name: pod ${state} ($(printf '%s' "$output" | tr '\n' ' '))"
    failed=$((failed + 1))
    continue
  fi
  log "PVC $pvc: backup $backup restored and read ($(printf '%s' "$output" | tail -n 1)), restore ${took}s"
  drill_record_restored="${drill_record_restored:+$drill_record_restored }$backup"
done

if [ "$failed" -gt 0 ]; then
  log "FAILED: $failed PVC(s) did not restore"
  exit 1
fi
log "passed: $DRILL_PVCS"
