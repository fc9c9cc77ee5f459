#!/usr/bin/env bash
# Streams a logical dump of one PostgreSQL database (pg_dump) or of a whole server (pg_dumpall) to
# the hub, so that a dump is complete or absent, never silently truncated:
#   pg_dump | trailer check | zstd -T<n> | sha256 + byte count | rclone rcat -> postgres-backups/.partial/
# zstd runs on several threads, so compression keeps up with pg_dump instead of bounding it.
# Nothing but a few bytes is kept on local disk. Only when every stage exited 0, the dump ends with
# pg_dump's own completion trailer and the staged object has exactly the streamed size, the object is
# copied server-side to its final key, then its integrity record is written, then latest.json moves.
# The writer cannot delete: a failed run leaves only a staging object, which the hub's lifecycle expires.
#
# Environment: DUMP_NAME, HUB_BUCKET, DUMP_MODE (database|cluster), PGHOST, PGPORT, PGUSER,
# PGPASSWORD, PGDATABASE, ZSTD_LEVEL (default 1), ZSTD_THREADS (default 0: one per core zstd
# detects; set it to the container's CPU limit), BACKUP_PREFIX (default postgres-backups),
# RCLONE (default /opt/tools/rclone), RCLONE_CONFIG_HUB_* (the remote `hub`).
set -euo pipefail

: "${DUMP_NAME:?DUMP_NAME is required}" "${HUB_BUCKET:?HUB_BUCKET is required}"
MODE="${DUMP_MODE:-database}"
LEVEL="${ZSTD_LEVEL:-1}"
THREADS="${ZSTD_THREADS:-0}"
PREFIX="${BACKUP_PREFIX:-postgres-backups}"
RCLONE="${RCLONE:-/opt/tools/rclone}"
[ -x "$RCLONE" ] || RCLONE="rclone"
# The writer may not create buckets; multipart chunks bound rclone's memory (chunk size x concurrency).
export RCLONE_S3_NO_CHECK_BUCKET="${RCLONE_S3_NO_CHECK_BUCKET:-true}"
export RCLONE_S3_CHUNK_SIZE="${RCLONE_S3_CHUNK_SIZE:-16M}"
export RCLONE_S3_UPLOAD_CONCURRENCY="${RCLONE_S3_UPLOAD_CONCURRENCY:-4}"

log() { printf '%s pg-dump %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$DUMP_NAME" "$*" >&2; }
fail() {
  log "FAILED: $*"
  exit 1
}
json_str() {
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

case "$LEVEL" in [1-9] | 1[0-9]) ;; *) fail "ZSTD_LEVEL must be 1..19, not $LEVEL" ;; esac
case "$THREADS" in [0-9] | [1-9][0-9]) ;; *) fail "ZSTD_THREADS must be 0..99, not $THREADS" ;; esac
# An image other than the stock postgres alpine one may lack zstd: say so before touching the hub.
command -v zstd >/dev/null || fail "zstd is not installed in this image"
case "$MODE" in
  database)
    dump_cmd=(pg_dump --no-password --format=plain "--dbname=${PGDATABASE:?PGDATABASE is required}")
    version_db="$PGDATABASE"
    trailer='-- PostgreSQL database dump complete'
    ;;
  cluster)
    dump_cmd=(pg_dumpall --no-password)
    version_db="${PGDATABASE:-postgres}"
    trailer='-- PostgreSQL database cluster dump complete'
    ;;
  *) fail "DUMP_MODE must be database or cluster, not $MODE" ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/pg-dump.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Fails fast (and says why) when the server is down or the password is wrong.
server_version="$(psql -X --no-password -d "$version_db" -Atc 'SHOW server_version')" || fail "cannot connect to ${PGHOST:-local}:${PGPORT:-5432} as ${PGUSER:-?}"
dump_version="$("${dump_cmd[0]}" --version)"

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
base="${DUMP_NAME}-$(date -u +%Y%m%dT%H%M%SZ).sql.zst"
staging="hub:${HUB_BUCKET}/${PREFIX}/.partial/${base}"
final_key="${PREFIX}/${DUMP_NAME}/${base}"
final="hub:${HUB_BUCKET}/${final_key}"

mkfifo "$work/raw" "$work/zst-sha" "$work/zst-size"
tail -c 1024 <"$work/raw" >"$work/trailer" &
tail_pid=$!
sha256sum <"$work/zst-sha" >"$work/sha256" &
sha_pid=$!
wc -c <"$work/zst-size" >"$work/size" &
size_pid=$!

log "streaming ${MODE} dump (server ${server_version}) to ${staging#hub:}"
set +e
# zstd writes a content checksum into every frame (its default), so restore also detects corruption.
"${dump_cmd[@]}" | tee "$work/raw" | zstd -q -c "-T$THREADS" "-$LEVEL" | tee "$work/zst-sha" "$work/zst-size" | "$RCLONE" rcat "$staging"
status=("${PIPESTATUS[@]}")
wait "$tail_pid"; tail_status=$?
wait "$sha_pid"; sha_status=$?
wait "$size_pid"; size_status=$?
set -e

# Every failed stage is named: a killed upload also shows up upstream as SIGPIPE (141).
stages=(dump tee zstd tee upload)
failed=""
for i in "${!stages[@]}"; do
  [ "${status[$i]}" -eq 0 ] || failed="${failed:+$failed, }${stages[$i]} stage exited with ${status[$i]}"
done
[ -z "$failed" ] || fail "$failed"
[ "$tail_status$sha_status$size_status" = "000" ] || fail "a checksum/size reader failed"
grep -qF -- "$trailer" "$work/trailer" || fail "the dump does not end with '${trailer}': truncated"

sha256="$(cut -d' ' -f1 <"$work/sha256")"
size="$(tr -d ' \n' <"$work/size")"
staged_size="$("$RCLONE" lsf --format s "$staging")" || fail "cannot read back the staged object"
[ "$staged_size" = "$size" ] || fail "staged object has ${staged_size:-no} bytes, ${size} were streamed"

"$RCLONE" copyto "$staging" "$final" || fail "server-side copy to the final key"
final_size="$("$RCLONE" lsf --format s "$final")" || fail "cannot read back the final object"
[ "$final_size" = "$size" ] || fail "final object has ${final_size} bytes, ${size} were streamed"
finished="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# One key per line: restore.sh reads these fields with sed (the job images have no jq).
{
  printf '{\n'
  printf '  "format": "homelab-backup/postgres-dump/v1",\n'
  printf '  "name": %s,\n' "$(json_str "$DUMP_NAME")"
  printf '  "mode": "%s",\n' "$MODE"
  printf '  "key": %s,\n' "$(json_str "$final_key")"
  printf '  "size": %s,\n' "$size"
  printf '  "sha256": "%s",\n' "$sha256"
  printf '  "compression": "zstd -%s",\n' "$LEVEL"
  printf '  "complete": true,\n'
  printf '  "completenessCheck": %s,\n' "$(json_str "every stage exited 0; the SQL ends with '${trailer}'; uploaded size equals streamed size")"
  printf '  "serverVersion": %s,\n' "$(json_str "$server_version")"
  printf '  "dumpVersion": %s,\n' "$(json_str "$dump_version")"
  printf '  "startedAt": "%s",\n' "$started"
  printf '  "finishedAt": "%s"\n' "$finished"
  printf '}\n'
} >"$work/record.json"
"$RCLONE" rcat "${final}.json" <"$work/record.json" || fail "writing the integrity record (the dump at ${final_key} has no record and is not used)"

{
  printf '{\n'
  printf '  "key": %s,\n' "$(json_str "$final_key")"
  printf '  "record": %s,\n' "$(json_str "${final_key}.json")"
  printf '  "size": %s,\n' "$size"
  printf '  "sha256": "%s",\n' "$sha256"
  printf '  "finishedAt": "%s"\n' "$finished"
  printf '}\n'
} >"$work/latest.json"
"$RCLONE" rcat "hub:${HUB_BUCKET}/${PREFIX}/${DUMP_NAME}/latest.json" <"$work/latest.json" || fail "moving latest.json (the dump and its record are complete at ${final_key})"

log "complete: ${final_key} (${size} bytes, sha256 ${sha256})"
