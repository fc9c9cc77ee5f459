#!/bin/sh
# jq programs name their own $variables: single quotes on purpose.
# shellcheck disable=SC2016
# Velero restore drill: for each chosen namespace, restores the newest Completed Backup that holds it
# into a scratch namespace (Restore spec.namespaceMapping), waits for the Restore to finish, then
# compares the objects in the scratch namespace with the backup's resource list (the
# <backup>-resource-list.json.gz Velero writes beside every backup, read from the hub with read-only
# credentials: "group/version/Kind" -> ["namespace/name", ...], velero design/backup-resource-list.md).
# Harmless by construction: workload kinds that would run or route traffic are not restored
# (DRILL_EXCLUDED_RESOURCES), controllers that are restored are scaled to zero by the resource
# modifier ConfigMap DRILL_RESOURCE_MODIFIER, no volume is restored (restorePVs false), no
# cluster-scoped object is restored. (resourceModifier.kind is "configmap", the kind the velero CLI
# sets: velero internal/resourcemodifiers ConfigmapRefType.)
# Always, on success, failure, timeout or signal: the Restore objects are deleted and the scratch
# namespaces removed (trap). Exits 0 when every namespace restored and matched, 1 otherwise.
#
# Environment: DRILL_NAMESPACES (space-separated, required), HUB_BUCKET and VELERO_PREFIX (the
# BackupStorageLocation's bucket prefix, "" for none) with the hub remote as RCLONE_CONFIG_HUB_*;
# VELERO_NAMESPACE (velero), DRILL_SCRATCH_PREFIX (drill-), DRILL_EXCLUDED_RESOURCES (space-separated
# Velero resource names), DRILL_SKIP_KINDS (the same as Kinds, not compared), DRILL_RESOURCE_MODIFIER
# (ConfigMap name, "" for none), DRILL_TIMEOUT_SECONDS (1800), DRILL_POLL_SECONDS (10),
# DRILL_RUN_ID (default: the current Unix time), KUBECTL (kubectl), RCLONE (rclone), JQ (jq).
set -eu
# shellcheck disable=SC3040
if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi

: "${DRILL_NAMESPACES:?DRILL_NAMESPACES is required}" "${HUB_BUCKET:?HUB_BUCKET is required}"
VELERO_PREFIX=${VELERO_PREFIX:-}
VNS=${VELERO_NAMESPACE:-velero}
PREFIX=${DRILL_SCRATCH_PREFIX:-drill-}
EXCLUDED=${DRILL_EXCLUDED_RESOURCES:-}
SKIP_KINDS=${DRILL_SKIP_KINDS:-}
MODIFIER=${DRILL_RESOURCE_MODIFIER:-}
TIMEOUT=${DRILL_TIMEOUT_SECONDS:-1800}
POLL=${DRILL_POLL_SECONDS:-10}
RUN_ID=${DRILL_RUN_ID:-$(date +%s)}
KUBECTL=${KUBECTL:-kubectl}
RCLONE=${RCLONE:-rclone}
JQ=${JQ:-jq}

log() {
  drill_record_note "$*"
  printf '%s velero-drill: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}
# shellcheck source-path=SCRIPTDIR source=drill-record.sh
. "$(dirname "$0")/drill-record.sh"
drill_record_begin
k() { "$KUBECTL" "$@"; }
work=$(mktemp -d "${TMPDIR:-/tmp}/velero-drill.XXXXXX")
restores=""
scratches=""

cleanup() {
  status=$?
  trap - EXIT INT TERM
  for r in $restores; do
    k -n "$VNS" delete restores.velero.io "$r" --ignore-not-found --wait=false > /dev/null 2>&1 || log "warning: could not delete Restore $r"
  done
  for s in $scratches; do
    if k delete namespace "$s" --ignore-not-found --wait=true --timeout=300s > /dev/null 2>&1; then
      log "removed scratch namespace $s"
    else
      log "warning: could not remove scratch namespace $s"
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

# Kubernetes names: at most 63 characters.
scratch_name() { printf '%s%s' "$PREFIX" "$1" | cut -c1-63 | sed 's/-*$//'; }

k -n "$VNS" get backups.velero.io -o json > "$work/backups.json" || { log "FAILED: cannot list Velero backups in $VNS"; exit 1; }

# The newest Completed backup that holds namespace $1.
newest_backup() {
  "$JQ" -r --arg ns "$1" '
    [.items[]
      | select(.status.phase == "Completed")
      | select(((.spec.includedNamespaces // []) | length == 0) or ((.spec.includedNamespaces // []) | index("*")) or ((.spec.includedNamespaces // []) | index($ns)))
      | select(((.spec.excludedNamespaces // []) | index($ns)) | not)]
    | sort_by(.status.completionTimestamp) | last | .metadata.name // empty' "$work/backups.json"
}

failed=0
for ns in $DRILL_NAMESPACES; do
  backup=$(newest_backup "$ns")
  if [ -z "$backup" ]; then
    log "FAILED: no Completed Velero backup holds namespace $ns"
    failed=$((failed + 1))
    continue
  fi
  scratch=$(scratch_name "$ns")
  restore=$(printf 'drill-%s-%s' "$ns" "$RUN_ID" | cut -c1-63 | sed 's/-*$//')
  # A scratch namespace left by an earlier run would mix old objects into the comparison.
  if [ -n "$(k get namespace "$scratch" -o name --ignore-not-found 2> /dev/null)" ]; then
    log "removing leftover scratch namespace $scratch"
    k delete namespace "$scratch" --wait=true --timeout=300s > /dev/null || { log "FAILED: cannot remove leftover $scratch"; failed=$((failed + 1)); continue; }
  fi
  "$JQ" -n --arg name "$restore" --arg vns "$VNS" --arg backup "$backup" --arg ns "$ns" --arg scratch "$scratch" \
    --arg excluded "$EXCLUDED" --arg modifier "$MODIFIER" '{
      apiVersion: "velero.io/v1", kind: "Restore",
      metadata: {name: $name, namespace: $vns, labels: {"app.kubernetes.io/part-of": "homelab-backup", "app.kubernetes.io/component": "drill-velero"}},
      spec: ({
        backupName: $backup,
        includedNamespaces: [$ns],
        namespaceMapping: {($ns): $scratch},
        excludedResources: ($excluded | split(" ") | map(select(length > 0))),
        includeClusterResources: false,
        restorePVs: false,
        existingResourcePolicy: "none"
      } + (if $modifier == "" then {} else {resourceModifier: {kind: "configmap", name: $modifier}} end))
    }' > "$work/restore-$ns.json"
  restores="$restores $restore"
  scratches="$scratches $scratch"
  started=$(date +%s)
  if ! k -n "$VNS" create -f - < "$work/restore-$ns.json" > /dev/null; then
    log "FAILED: cannot create Restore $restore"
    failed=$((failed + 1))
    continue
  fi
  log "restoring backup $backup namespace $ns into $scratch (Restore $restore)"
  phase=""
  while :; do
    if k -n "$VNS" get restores.velero.io "$restore" -o json > "$work/restore-status.json" 2> "$work/get.err"; then
      phase=$("$JQ" -r '.status.phase // "New"' "$work/restore-status.json")
    fi
    case "$phase" in
      Completed | PartiallyFailed | Failed | FailedValidation) break ;;
    esac
    if [ $(($(date +%s) - started)) -ge "$TIMEOUT" ]; then
      phase="timeout"
      break
    fi
    sleep "$POLL"
  done
  took=$(($(date +%s) - started))
  if [ "$phase" != Completed ]; then
    detail=$("$JQ" -r '[(.status.failureReason // empty), ("errors " + ((.status.errors // 0) | tostring)), ("warnings " + ((.status.warnings // 0) | tostring))] | join(", ")' "$work/restore-status.json" 2> /dev/null || true)
    if [ "$phase" = timeout ]; then
      log "FAILED: Restore $restore did not finish within ${TIMEOUT}s"
    else
      log "FAILED: Restore $restore ended $phase after ${took}s ($detail)"
    fi
    failed=$((failed + 1))
    continue
  fi
  log "Restore $restore Completed in ${took}s"

  # What the backup holds for $ns, minus the kinds that are not restored.
  list="hub:$HUB_BUCKET/${VELERO_PREFIX:+$VELERO_PREFIX/}backups/$backup/$backup-resource-list.json.gz"
  if ! "$RCLONE" --config "" cat "$list" 2> "$work/rclone.err" | gzip -dc > "$work/list.json" 2>> "$work/rclone.err"; then
    cat "$work/rclone.err" >&2
    log "FAILED: cannot read the resource list of $backup from the hub"
    failed=$((failed + 1))
    continue
  fi
  "$JQ" -r --arg ns "$ns" --arg skip "$SKIP_KINDS" '
    ($skip | split(" ")) as $skipped
    | to_entries[]
    | (.key | split("/")) as $gvk
    | select(($skipped | index($gvk[-1])) | not)
    | .key as $key
    | .value[] | select(startswith($ns + "/")) | ($key + " " + ltrimstr($ns + "/"))' "$work/list.json" | sort > "$work/expected"
  : > "$work/restored"
  # Keys are "group/version/Kind": no blanks.
  # shellcheck disable=SC2013
  for key in $(cut -d' ' -f1 "$work/expected" | sort -u); do
    # "apps/v1/Deployment" -> "Deployment.v1.apps"; "v1/ConfigMap" -> "ConfigMap" (kubectl resolves kinds).
    arg=$(printf '%s' "$key" | awk -F/ '{ if (NF == 3) print $3 "." $2 "." $1; else print $2 }')
    if ! k -n "$scratch" get "$arg" -o json > "$work/objects.json" 2> "$work/get.err"; then
      cat "$work/get.err" >&2
      log "FAILED: cannot list $key in $scratch"
      failed=$((failed + 1))
      continue 2
    fi
    "$JQ" -r --arg key "$key" '.items[] | ($key + " " + .metadata.name)' "$work/objects.json" >> "$work/restored"
  done
  sort -o "$work/restored" "$work/restored"
  missing=$(comm -23 "$work/expected" "$work/restored")
  expected=$(grep -c . "$work/expected" || true)
  if [ -n "$missing" ]; then
    log "FAILED: $(printf '%s\n' "$missing" | grep -c .) of $expected objects of $backup/$ns missing from $scratch:"
    printf '%s\n' "$missing" | head -n 50 | sed 's/^/  missing: /' >&2
    failed=$((failed + 1))
    continue
  fi
  log "namespace $ns: all $expected objects of $backup are in $scratch (restore ${took}s)"
  drill_record_restored="${drill_record_restored:+$drill_record_restored }$backup"
done

if [ "$failed" -gt 0 ]; then
  log "FAILED: $failed namespace(s) did not restore"
  exit 1
fi
log "passed: $DRILL_NAMESPACES"
