#!/bin/sh
# Copies finished k3s etcd snapshots from this node's snapshot directory to the hub, once each.
#
# POSIX sh on purpose: the job runs in the stock rclone image (Alpine busybox ash, no bash).
# For each snapshot not yet recorded at the hub (<file>.json missing under etcd-snapshots/<node>/):
#   1. skip it while it may still be written: name ends in .part/.tmp, modified in the last
#      MIN_AGE_SECONDS, or size/mtime changed across STABLE_SECONDS;
#   2. sha256 + integrity check (ETCD_CHECK: auto | etcdctl | trailer | none). `trailer`: etcd ends every
#      snapshot it streams (etcdctl snapshot save, k3s, talosctl) with the sha256 of the content before
#      it, so size % 512 == 32 and the last 32 bytes must equal that hash (etcd's own restore check,
#      client/v3/snapshot hasChecksum); `auto`: etcdctl when installed, else trailer (.zip: none);
#   3. upload to etcd-snapshots/.partial/<node>/<file>, verify the uploaded size,
#      server-side copy to etcd-snapshots/<node>/<file>, then write the <file>.json record last.
# The writer cannot delete: retention (including of .partial/) is the hub lifecycle's job.
#
# Environment: SNAPSHOT_DIR, NODE_NAME, HUB_BUCKET (required); HUB_REMOTE (hub), HUB_PREFIX
# (etcd-snapshots), RCLONE (rclone), MIN_AGE_SECONDS (60), STABLE_SECONDS (5), MAX_AGE_DAYS (7: older
# local files are never re-sent after the hub expired them), ETCD_CHECK (auto), ETCDCTL (etcdctl).
set -eu
# busybox ash and bash have pipefail; dash (used by some local runs) does not.
# shellcheck disable=SC3040
if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi

: "${SNAPSHOT_DIR:?SNAPSHOT_DIR is required}"
: "${NODE_NAME:?NODE_NAME is required}"
: "${HUB_BUCKET:?HUB_BUCKET is required}"
HUB_REMOTE="${HUB_REMOTE:-hub}"
HUB_PREFIX="${HUB_PREFIX:-etcd-snapshots}"
RCLONE="${RCLONE:-rclone}"
MIN_AGE_SECONDS="${MIN_AGE_SECONDS:-60}"
STABLE_SECONDS="${STABLE_SECONDS:-5}"
MAX_AGE_DAYS="${MAX_AGE_DAYS:-7}"
ETCD_CHECK="${ETCD_CHECK:-auto}"
ETCDCTL="${ETCDCTL:-etcdctl}"

base="${HUB_REMOTE}:${HUB_BUCKET}/${HUB_PREFIX}"
dest="${base}/${NODE_NAME}"
partial="${base}/.partial/${NODE_NAME}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log() { printf '%s etcd-offload: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
# The writer may not create buckets: never let rclone try.
rc() { "$RCLONE" --s3-no-check-bucket --retries 3 --low-level-retries 5 "$@"; }
fstat() { stat -c '%s %Y' "$1"; }
# The sha256 trailer check: 0 when file $1 of size $2 ends in the sha256 of everything before it.
trailer_ok() {
  [ $(($2 % 512)) -eq 32 ] || return 1
  tail_hex="$(tail -c 32 "$1" | od -An -v -tx1 | tr -d ' \n')"
  body_hex="$(head -c $(($2 - 32)) "$1" | sha256sum | cut -d' ' -f1)"
  [ "$tail_hex" = "$body_hex" ]
}

[ -d "$SNAPSHOT_DIR" ] || { log "snapshot directory $SNAPSHOT_DIR does not exist"; exit 1; }

# What the hub already has: a snapshot counts as done only when its record (written last) exists.
if rc lsf --files-only "$dest/" > "$work/remote" 2> "$work/lsf.err"; then :; else
  # A prefix that does not exist yet lists as empty on S3; anything else is a real error.
  st=$?
  cat "$work/lsf.err" >&2
  log "cannot list ${dest}/ (rclone exited with ${st})"
  exit 1
fi

now="$(date +%s)"
found=0
: > "$work/candidates"
for path in "$SNAPSHOT_DIR"/*; do
  [ -f "$path" ] || continue
  file="${path##*/}"
  case "$file" in
    *.part | *.tmp | .*) log "skip $file: temporary name"; continue ;;
    *.json) continue ;;
  esac
  case "$file" in
    *[!A-Za-z0-9._-]*) log "skip $file: unexpected characters in name"; continue ;;
  esac
  found=$((found + 1))
  st="$(fstat "$path")"
  size="${st% *}"
  mtime="${st#* }"
  if [ $((now - mtime)) -gt $((MAX_AGE_DAYS * 86400)) ]; then continue; fi
  if grep -qxF "$file.json" "$work/remote"; then continue; fi
  if [ $((now - mtime)) -lt "$MIN_AGE_SECONDS" ]; then
    log "skip $file: modified $((now - mtime))s ago (< ${MIN_AGE_SECONDS}s), may still be written"
    continue
  fi
  printf '%s %s %s\n' "$file" "$size" "$mtime" >> "$work/candidates"
done

if [ "$found" -eq 0 ]; then
  log "no snapshot in $SNAPSHOT_DIR: is k3s taking etcd snapshots on this node?"
  exit 1
fi
if [ ! -s "$work/candidates" ]; then
  log "nothing new to offload from $NODE_NAME"
  exit 0
fi

# One wait for all candidates: a file still growing changes size or mtime within it.
sleep "$STABLE_SECONDS"

failed=0
uploaded=0
while read -r file size mtime; do
  path="$SNAPSHOT_DIR/$file"
  if [ ! -f "$path" ] || [ "$(fstat "$path")" != "$size $mtime" ]; then
    log "skip $file: still changing"
    continue
  fi
  sha="$(sha256sum "$path" | cut -d' ' -f1)"
  check="size-stable+sha256"
  mode="$ETCD_CHECK"
  if [ "$mode" = auto ]; then
    # etcdctl reads bolt files; k3s compressed snapshots (.zip) it cannot read, nor hash-check.
    case "$file" in
      *.zip) mode=none ;;
      *) if command -v "$ETCDCTL" > /dev/null 2>&1; then mode=etcdctl; else mode=trailer; fi ;;
    esac
  fi
  case "$mode" in
    etcdctl)
      if ! "$ETCDCTL" snapshot status "$path" -w json > "$work/status" 2> "$work/status.err"; then
        log "FAIL $file: etcdctl snapshot status: $(tr '\n' ' ' < "$work/status.err")"
        failed=$((failed + 1))
        continue
      fi
      check="etcdctl snapshot status ok: $(tr -d '\n"' < "$work/status")"
      ;;
    trailer)
      if ! trailer_ok "$path" "$size"; then
        log "FAIL $file: no valid sha256 trailer (size $size): truncated, corrupt or not an etcd snapshot"
        failed=$((failed + 1))
        continue
      fi
      check="size-stable+sha256+etcd sha256 trailer ok"
      ;;
    none) ;;
    *) log "unknown ETCD_CHECK=$ETCD_CHECK (auto, etcdctl, trailer, none)"; exit 2 ;;
  esac
  # The file must not have changed while it was hashed and checked.
  if [ "$(fstat "$path")" != "$size $mtime" ]; then
    log "skip $file: changed while being checked"
    continue
  fi
  if ! rc copyto "$path" "$partial/$file"; then
    log "FAIL $file: upload to staging"
    failed=$((failed + 1))
    continue
  fi
  remote_size="$(rc lsf --format s "$partial/$file" 2> /dev/null || true)"
  if [ "$remote_size" != "$size" ]; then
    log "FAIL $file: staged size ${remote_size:-none} != local size $size"
    failed=$((failed + 1))
    continue
  fi
  if ! rc copyto "$partial/$file" "$dest/$file"; then
    log "FAIL $file: server-side copy"
    failed=$((failed + 1))
    continue
  fi
  printf '{"file":"%s","node":"%s","size":%s,"sha256":"%s","check":"%s","mtime":%s,"uploadedAt":"%s"}\n' \
    "$file" "$NODE_NAME" "$size" "$sha" "$check" "$mtime" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$work/record.json"
  if ! rc copyto "$work/record.json" "$dest/$file.json"; then
    log "FAIL $file: record"
    failed=$((failed + 1))
    continue
  fi
  uploaded=$((uploaded + 1))
  log "offloaded $file ($size bytes, sha256 $sha, $check)"
done < "$work/candidates"

log "$uploaded snapshot(s) offloaded from $NODE_NAME, $failed failed"
[ "$failed" -eq 0 ]
