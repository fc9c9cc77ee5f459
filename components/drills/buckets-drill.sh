#!/bin/sh
# Bucket mirror drill: proves a random sample of one mirrored bucket's objects reads back from the
# hub byte for byte. For each sampled source object, the hub copy under buckets/<name>/ is streamed and
# its sha256 compared with the source's. Objects changed or created on the source after the last
# mirror run are not the mirror's fault: they are skipped (source newer than the hub copy, which
# carries the source's modification time, rclone's X-Amz-Meta-Mtime). Everything else must match.
# Exits 0 when every compared object matched (and at least one was compared, unless the source is
# empty), 1 on any mismatch, missing copy or read error. Nothing is written anywhere: objects are
# hashed as they stream.
#
# POSIX sh: runs in the stock alpine image with rclone from the init container (busybox).
# Environment: the source and hub settings of mirror.sh (MIRROR_SOURCE_ENDPOINT, MIRROR_SOURCE_BUCKET,
# MIRROR_SOURCE_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, MIRROR_HUB_ENDPOINT, MIRROR_HUB_BUCKET,
# MIRROR_HUB_REGION, MIRROR_HUB_PROVIDER, MIRROR_HUB_PATH_STYLE, MIRROR_HUB_PREFIX, HUB_ACCESS_KEY_ID,
# HUB_SECRET_ACCESS_KEY: read-only credentials are enough), DRILL_SAMPLE (objects to compare, 20),
# DRILL_RCLONE_FLAGS (extra flags), RCLONE (rclone).
set -eu
# shellcheck disable=SC3040
if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi

RCLONE=${RCLONE:-rclone}
extra=${DRILL_RCLONE_FLAGS:-}
sample=${DRILL_SAMPLE:-20}
prefix=${MIRROR_HUB_PREFIX:?}
prefix=${prefix%/}
export TZ=UTC

# The remotes are defined in components/core/rclone-remotes.sh: ../core/ from this script in a checkout,
# and in the pod, whose scripts volume keeps the layout of components/.
# shellcheck source-path=SCRIPTDIR source=../core/rclone-remotes.sh
. "$(dirname "$0")/../core/rclone-remotes.sh"
rclone_mirror_remotes

src="src:$MIRROR_SOURCE_BUCKET"
dst="hub:$MIRROR_HUB_BUCKET/$prefix"

log() {
  drill_record_note "$*"
  printf '%s buckets-drill %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$prefix" "$*" >&2
}
# shellcheck source-path=SCRIPTDIR source=drill-record.sh
. "$(dirname "$0")/drill-record.sh"
drill_record_begin
work=$(mktemp -d "${TMPDIR:-/tmp}/buckets-drill.XXXXXX")
# The record is written on every way out, and the work directory removed (drill-record.sh).
drill_record_on_exit "$work"
DRILL_RECORD_BUCKET=${DRILL_RECORD_BUCKET:-$MIRROR_HUB_BUCKET}
# shellcheck disable=SC2086 # $extra is a list of flags, split on purpose
rc() { "$RCLONE" --config "" $extra "$@"; }
# "2026-12-01 21:30:45;key" -> "20261201213045;key": modification times that compare as integers.
listing() { rc lsf -R --files-only --fast-list --format tp --separator ';' "$1" | sed 's/^\([0-9]*\)-\([0-9]*\)-\([0-9]*\) \([0-9]*\):\([0-9]*\):\([0-9]*\);/\1\2\3\4\5\6;/'; }
sha() { rc cat "$1" | sha256sum | cut -d' ' -f1; }

listing "$src/" > "$work/src" || { log "FAILED: cannot list the source $src"; exit 1; }
listing "$dst/" > "$work/dst" || { log "FAILED: cannot list the mirror $dst"; exit 1; }
total=$(grep -c . "$work/src" || true)
if [ "$total" -eq 0 ]; then
  log "the source $src is empty: nothing to compare"
  exit 0
fi
newest_copy=$(cut -d';' -f1 "$work/dst" | sort -n | tail -n 1)
shuf -n "$sample" "$work/src" > "$work/sample"

compared=0
skipped=0
failed=0
while IFS= read -r line; do
  src_time=${line%%;*}
  key=${line#*;}
  copy=$(grep -F ";$key" "$work/dst" | while IFS= read -r d; do [ "${d#*;}" = "$key" ] && printf '%s\n' "${d%%;*}"; done | head -n 1) || copy=""
  if [ -z "$copy" ]; then
    if [ -n "$newest_copy" ] && [ "$src_time" -le "$newest_copy" ]; then
      log "MISSING: $key is on the source but not in the mirror"
      failed=$((failed + 1))
    else
      log "skip $key: created on the source after the last mirror run"
      skipped=$((skipped + 1))
    fi
    continue
  fi
  if [ "$src_time" -gt "$copy" ]; then
    log "skip $key: changed on the source after the last mirror run"
    skipped=$((skipped + 1))
    continue
  fi
  a=$(sha "$src/$key") || a=""
  b=$(sha "$dst/$key") || b=""
  if [ -z "$a" ] || [ -z "$b" ]; then
    log "FAILED to read $key (source ${a:-unreadable}, mirror ${b:-unreadable})"
    failed=$((failed + 1))
  elif [ "$a" != "$b" ]; then
    log "MISMATCH: $key source sha256 $a, mirror sha256 $b"
    failed=$((failed + 1))
  else
    compared=$((compared + 1))
  fi
done < "$work/sample"

log "$compared of $total objects compared equal, $skipped skipped, $failed failed"
drill_record_restored="$compared sampled objects of $prefix/"
if [ "$failed" -gt 0 ]; then
  log "FAILED"
  drill_record_failed "$failed of $total sampled objects differ from the hub or could not be read (the log names them)"
  exit 1
fi
if [ "$compared" -eq 0 ]; then
  log "FAILED: no object could be compared (all sampled objects changed since the last mirror run)"
  exit 1
fi
log "passed"
