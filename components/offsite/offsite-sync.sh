#!/bin/sh
# The off-site copy: for each configured prefix, `rclone sync hub:<bucket>/<prefix> offsite:<prefix>`
# (remotes written by write-config.sh). FTP keeps no modification time, so files are compared by size
# only; crypt output size is a function of the input size, so an unchanged hub means nothing moves.
#
# Before copying, the run proves it holds the key the existing copy was made with (a small key-check
# file encrypted with it): rclone's crypt skips names it cannot decrypt, so with a wrong key it would
# silently upload everything a second time next to the old copy.
#
# A run that completes leaves its record on the FTP side, at the copy's root beside the key-check
# file and stored the same way (encrypted content, filename encryption off): homelab-backup-offsite.json
# = {format, bucket, prefixes, finishedAt, transferredFiles, transferredBytes, complete}. The audit and
# `npm run status` read it (components/alerts/hubReader.mjs readOffsite) instead of listing the whole
# copy; the syncs leave it alone (--exclude, as the key-check file).
#
# Each run leaves a record when OFFSITE_TEXTFILE is set (the hub): a node-exporter textfile written
# atomically, on failure too (success 0, last success kept from the previous record).
#
# POSIX sh: runs on the hub (systemd) and in the stock alpine image in the cluster (busybox).
# Environment: OFFSITE_RCLONE_CONFIG, OFFSITE_BUCKET, OFFSITE_PREFIXES (space-separated, empty = the
# whole bucket), OFFSITE_ENCRYPTION (true|false), OFFSITE_TEXTFILE (optional), OFFSITE_RCLONE_FLAGS
# (optional extra flags), RCLONE (binary, default rclone).
set -eu

conf=${OFFSITE_RCLONE_CONFIG:?}
bucket=${OFFSITE_BUCKET:?}
prefixes=${OFFSITE_PREFIXES:-}
encryption=${OFFSITE_ENCRYPTION:?}
textfile=${OFFSITE_TEXTFILE:-}
extra=${OFFSITE_RCLONE_FLAGS:-}
RCLONE=${RCLONE:-rclone}
KEYCHECK=homelab-backup-keycheck
KEYCHECK_TEXT="homelab-backup off-site key check"
RECORD=homelab-backup-offsite.json

[ -r "$conf" ] || { echo "offsite-sync: rclone config $conf is missing or unreadable" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/offsite-sync.XXXXXX")
trap 'rm -rf "$work"' EXIT

# shellcheck disable=SC2086 # $extra is a list of flags, split on purpose
rc() { "$RCLONE" --config "$conf" $extra "$@"; }

bytes=0
files=0

# The key-check file (no leading dot: FTP servers such as vsftpd hide dotfiles from listings) is
# stored with filename encryption off whatever the configured mode (connection
# string override), so its name on the server is known and a wrong key fails on its content.
check_key() {
  [ "$encryption" = true ] || return 0
  # A missing directory is a first run; any other listing error stops the run.
  if ! raw=$(rc lsf --max-depth 1 offsite_raw: 2>"$work/list.err"); then
    grep -q "directory not found" "$work/list.err" || { cat "$work/list.err" >&2; echo "offsite-sync: cannot list the FTP server" >&2; return 1; }
    raw=
  fi
  if printf '%s\n' "$raw" | grep -qx "$KEYCHECK.bin"; then
    got=$(rc cat "offsite,filename_encryption=off:$KEYCHECK" 2>"$work/keycheck.err") || got=
    [ "$got" = "$KEYCHECK_TEXT" ] && return 0
    echo "offsite-sync: WRONG ENCRYPTION KEY: the key-check file of this off-site copy does not decrypt with the configured key" >&2
    return 1
  fi
  if [ -n "$raw" ]; then
    # A copy made before key-check files existed: every top-level name must decrypt.
    n_raw=$(printf '%s\n' "$raw" | grep -c .)
    n_dec=$(rc lsf --max-depth 1 offsite: 2>/dev/null | grep -c . || true)
    if [ "$n_raw" != "$n_dec" ]; then
      echo "offsite-sync: WRONG ENCRYPTION KEY (or foreign files in the off-site path): $n_raw entries on the FTP server, $n_dec decrypt" >&2
      return 1
    fi
  fi
  printf '%s' "$KEYCHECK_TEXT" | rc rcat "offsite,filename_encryption=off:$KEYCHECK" || return 1
}

# One `rclone sync`; adds the transferred bytes and files of its final stats to the totals. The log
# holds errors, notices and the stats only (no line per file): in the cluster it sits in a small
# memory-backed /tmp.
sync_one() {
  log="$work/sync.log"
  # --fast-list: the hub is listed with one recursive S3 listing instead of a request per directory
  # (fewer requests; also what the S3 peer of the tests answers completely).
  rc sync "$1" "$2" --size-only --fast-list --exclude "/$KEYCHECK" --exclude "/$RECORD" --use-json-log --stats 1m --stats-log-level NOTICE --log-file "$log"
  status=$?
  cat "$log" >&2
  last=$(grep '"stats":' "$log" | tail -n 1 || true)
  b=$(printf '%s' "$last" | sed -n 's/.*"stats":{[^}]*"bytes":\([0-9]*\).*/\1/p')
  f=$(printf '%s' "$last" | sed -n 's/.*"stats":{[^}]*"transfers":\([0-9]*\).*/\1/p')
  bytes=$((bytes + ${b:-0}))
  files=$((files + ${f:-0}))
  return "$status"
}

# The run record at the copy's root (with encryption through the crypt remote with filename encryption
# off, so its name on the server is known, as the key-check file's).
write_offsite_record() {
  if [ "$encryption" = true ]; then dest="offsite,filename_encryption=off:$RECORD"; else dest="offsite:$RECORD"; fi
  json_prefixes=
  for p in $prefixes; do json_prefixes="$json_prefixes${json_prefixes:+,}\"$p\""; done
  printf '{"format":"homelab-backup/offsite-run/v1","bucket":"%s","prefixes":[%s],"finishedAt":"%s","transferredFiles":%s,"transferredBytes":%s,"complete":true}\n' \
    "$bucket" "$json_prefixes" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$files" "$bytes" | rc rcat "$dest"
}

# The rclone calls are checked one by one (`|| return 1`): `set -e` does not apply inside a function
# called on the left of `||`.
run() {
  check_key || return 1
  if [ -z "$prefixes" ]; then
    sync_one "hub:$bucket" "offsite:" || return 1
  else
    for p in $prefixes; do
      p=${p%/}
      sync_one "hub:$bucket/$p" "offsite:$p" || return 1
    done
  fi
  write_offsite_record || return 1
}

write_record() {
  [ -n "$textfile" ] || return 0
  now=$(date +%s)
  last_success=0
  if [ -r "$textfile" ]; then
    last_success=$(sed -n 's/^homelab_backup_offsite_last_success_timestamp_seconds \([0-9]*\)$/\1/p' "$textfile" | head -n 1)
    last_success=${last_success:-0}
  fi
  [ "$1" -eq 1 ] && last_success=$now
  mkdir -p "$(dirname "$textfile")"
  tmp=$(mktemp "$(dirname "$textfile")/.offsite.prom.XXXXXX")
  cat >"$tmp" <<PROM
# HELP homelab_backup_offsite_last_success_timestamp_seconds Unix time of the last successful off-site copy.
# TYPE homelab_backup_offsite_last_success_timestamp_seconds gauge
homelab_backup_offsite_last_success_timestamp_seconds $last_success
# HELP homelab_backup_offsite_last_run_timestamp_seconds Unix time the last off-site copy finished.
# TYPE homelab_backup_offsite_last_run_timestamp_seconds gauge
homelab_backup_offsite_last_run_timestamp_seconds $now
# HELP homelab_backup_offsite_last_run_success 1 if the last off-site copy succeeded, else 0.
# TYPE homelab_backup_offsite_last_run_success gauge
homelab_backup_offsite_last_run_success $1
# HELP homelab_backup_offsite_last_run_bytes Bytes transferred by the last off-site copy.
# TYPE homelab_backup_offsite_last_run_bytes gauge
homelab_backup_offsite_last_run_bytes $bytes
# HELP homelab_backup_offsite_last_run_files Files transferred by the last off-site copy.
# TYPE homelab_backup_offsite_last_run_files gauge
homelab_backup_offsite_last_run_files $files
PROM
  chmod 0644 "$tmp"
  mv -f "$tmp" "$textfile"
}

if run; then
  write_record 1
  echo "offsite-sync: done, $files files, $bytes bytes transferred" >&2
else
  write_record 0
  echo "offsite-sync: FAILED" >&2
  exit 1
fi
