#!/bin/sh
# Off-site restore drill: proves the encrypted copy on the FTP server can be read back with nothing but
# the FTP login and the encryption key, and that what comes back is what the hub holds.
#   1. the key must decrypt the copy's key-check file (as restore-offsite.sh checks it);
#   2. a random sample of DRILL_SAMPLE files of the copy is downloaded and decrypted (rclone crypt
#      authenticates every block: a tampered file fails here);
#   3. each decrypted file's sha256 is compared with the hub object under the same key (read with
#      read-only credentials). An object the hub changed after it was copied (hub modification time
#      in a later minute than the FTP upload; FTP LIST has minute precision) or no longer holds
#      (lifecycle expiry) is skipped, not blamed on the copy.
# Exits 0 when every compared file matched and at least one was compared, 1 otherwise. Each file is
# deleted as soon as it is hashed; the work directory is removed on any exit.
#
# POSIX sh: runs in the stock alpine image with rclone from the init container (busybox).
# Environment: OFFSITE_FTP_HOST, OFFSITE_FTP_USER, OFFSITE_FTP_PASSWORD, OFFSITE_ENCRYPTION_KEY,
#   OFFSITE_FTP_PORT (21), OFFSITE_FTP_PATH (/), OFFSITE_FTP_EXPLICIT_TLS (true),
#   OFFSITE_FTP_DISABLE_TLS13 (false), OFFSITE_FILENAME_ENCRYPTION (standard), OFFSITE_ENCRYPTION (true),
#   OFFSITE_RCLONE_FLAGS (extra flags); HUB_BUCKET and the hub remote as RCLONE_CONFIG_HUB_*;
#   DRILL_SAMPLE (5), RCLONE (rclone).
set -eu
# shellcheck disable=SC3040
if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi

RCLONE=${RCLONE:-rclone}
extra=${OFFSITE_RCLONE_FLAGS:-}
sample=${DRILL_SAMPLE:-5}
bucket=${HUB_BUCKET:?}
KEYCHECK=homelab-backup-keycheck
KEYCHECK_TEXT="homelab-backup off-site key check"
# The run record offsite-sync.sh leaves beside the key-check file: no backup, never copied back.
RECORD=homelab-backup-offsite.json
export TZ=UTC
: "${OFFSITE_FTP_HOST:?}" "${OFFSITE_FTP_USER:?}" "${OFFSITE_FTP_PASSWORD:?}"
encryption=${OFFSITE_ENCRYPTION:-true}
if [ "$encryption" = true ]; then : "${OFFSITE_ENCRYPTION_KEY:?}"; fi

log() {
  drill_record_note "$*"
  printf '%s offsite-drill: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}
# shellcheck source-path=SCRIPTDIR source=drill-record.sh
. "$(dirname "$0")/drill-record.sh"
drill_record_begin

# The remotes are defined in components/core/rclone-remotes.sh: ../core/ from this script in a checkout,
# and in the pod, whose scripts volume keeps the layout of components/.
# shellcheck source-path=SCRIPTDIR source=../core/rclone-remotes.sh
. "$(dirname "$0")/../core/rclone-remotes.sh"
# The remotes restore-offsite.sh restores with: only the FTP login and the key, in memory.
rclone_offsite_remotes

# shellcheck disable=SC2086 # $extra is a list of flags, split on purpose
rc() { "$RCLONE" --config "" $extra "$@"; }
# "2026-12-01 21:30:45;key" -> "202612012130;key": the minute, comparable as an integer.
minutes() { sed 's/^\([0-9]*\)-\([0-9]*\)-\([0-9]*\) \([0-9]*\):\([0-9]*\):[0-9]*;/\1\2\3\4\5;/'; }

work=$(mktemp -d "${TMPDIR:-/tmp}/offsite-drill.XXXXXX")
# The record is written on every way out, and the work directory removed (drill-record.sh).
drill_record_on_exit "$work"

if [ "$encryption" = true ]; then
  if ! rc lsf --max-depth 1 offsite_raw: > "$work/raw" 2> "$work/raw.err"; then
    cat "$work/raw.err" >&2
    log "FAILED: cannot list the off-site copy on the FTP server"
    exit 1
  fi
  grep -qx "$KEYCHECK.bin" "$work/raw" || { log "FAILED: no key-check file in the off-site copy"; exit 1; }
  got=$(rc cat "offsite,filename_encryption=off:$KEYCHECK" 2>/dev/null) || got=
  if [ "$got" != "$KEYCHECK_TEXT" ]; then
    log "FAILED: WRONG ENCRYPTION KEY: the off-site copy's key-check file does not decrypt with this key"
    exit 1
  fi
  log "the key decrypts the key-check file"
fi

if ! rc lsf -R --files-only --format tp --separator ';' --exclude "/$KEYCHECK" --exclude "/$RECORD" offsite: > "$work/list" 2> "$work/list.err"; then
  cat "$work/list.err" >&2
  log "FAILED: cannot list the decrypted off-site copy"
  exit 1
fi
total=$(grep -c . "$work/list" || true)
[ "$total" -gt 0 ] || { log "FAILED: the off-site copy holds no file"; exit 1; }
minutes < "$work/list" | shuf -n "$sample" > "$work/sample"

compared=0
skipped=0
failed=0
while IFS= read -r line; do
  copied_at=${line%%;*}
  key=${line#*;}
  if ! rc copyto "offsite:$key" "$work/file" 2> "$work/copy.err"; then
    cat "$work/copy.err" >&2
    log "FAILED: $key does not download and decrypt from the off-site copy"
    failed=$((failed + 1))
    continue
  fi
  mine=$(sha256sum "$work/file" | cut -d' ' -f1)
  rm -f "$work/file"
  hub_line=$(rc lsf --format tp --separator ';' "hub:$bucket/$key" 2>/dev/null | minutes | head -n 1) || hub_line=""
  if [ -z "$hub_line" ]; then
    log "skip $key: no longer on the hub (expired after it was copied)"
    skipped=$((skipped + 1))
    continue
  fi
  theirs=$(rc cat "hub:$bucket/$key" | sha256sum | cut -d' ' -f1) || theirs=""
  if [ "$mine" = "$theirs" ]; then
    compared=$((compared + 1))
  elif [ "${hub_line%%;*}" -gt "$copied_at" ]; then
    log "skip $key: changed on the hub after it was copied"
    skipped=$((skipped + 1))
  else
    log "MISMATCH: $key off-site sha256 $mine, hub sha256 ${theirs:-unreadable}"
    failed=$((failed + 1))
  fi
done < "$work/sample"

log "$compared of $total files compared equal, $skipped skipped, $failed failed"
drill_record_restored="$compared sampled files of the off-site copy"
if [ "$failed" -gt 0 ]; then
  log "FAILED"
  drill_record_failed "$failed of $total sampled files differ from the hub or could not be read (the log names them)"
  exit 1
fi
[ "$compared" -gt 0 ] || { log "FAILED: no file could be compared"; exit 1; }
log "passed"
