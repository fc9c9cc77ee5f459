#!/usr/bin/env bash
# Streams a logical dump of one PostgreSQL database (pg_dump) or of a whole server (pg_dumpall) to
# the hub, so that a dump is complete or absent, never silently truncated:
#   pg_dump | zstd -T<n> | tee -> rclone rcat -> postgres-backups/.partial/
#                             `-> sha256sum        (the digest of exactly the uploaded bytes)
#                             `-> zstd -d | tail   (the completion trailer, read back from the compressed side)
# The raw SQL is read by zstd alone: every extra reader of the raw stream costs as much CPU as pg_dump
# itself (figures: test/bench/postgres.bench.ts, README Performance). zstd reports the raw and
# compressed byte counts itself (-vv prints exact sizes), so nothing else counts bytes. Only when every stage exited 0, the
# decompressed stream ends with pg_dump's own completion trailer and the staged object has exactly the
# size zstd wrote, the object is copied server-side to its final key, then its integrity record is
# written, then latest.json moves. The writer cannot delete: a failed run leaves only a staging object,
# which the hub's lifecycle expires. A deadline kill (SIGTERM) stops every stage and removes the
# scratch directory; a lock held on a table fails the dump after LOCK_TIMEOUT, naming the table.
#
# Environment: DUMP_NAME, HUB_BUCKET, DUMP_MODE (database|cluster), PGHOST, PGPORT, PGUSER,
# PGPASSWORD, PGDATABASE, ZSTD_LEVEL (default 1), ZSTD_THREADS (default 0: one per core zstd
# detects; set it to the container's CPU limit), LOCK_TIMEOUT (default 2min: how long pg_dump may wait
# for its ACCESS SHARE lock on a table; a PostgreSQL duration such as 30s, 2min, 500ms),
# BACKUP_PREFIX (default postgres-backups), RCLONE (default /opt/tools/rclone), RCLONE_CONFIG_HUB_*
# (the remote `hub`), TMPDIR (scratch directory for a few KiB of state), DUMP_LABEL (optional,
# lowercase letters, digits and '-': a labelled dump, such as restore.sh's `pre-restore` safety copy, is
# named <name>-<time>-<label>.sql.zst, records its label and leaves latest.json where it was).
set -euo pipefail

: "${DUMP_NAME:?DUMP_NAME is required}" "${HUB_BUCKET:?HUB_BUCKET is required}"
MODE="${DUMP_MODE:-database}"
LEVEL="${ZSTD_LEVEL:-1}"
THREADS="${ZSTD_THREADS:-0}"
LOCK_TIMEOUT="${LOCK_TIMEOUT:-2min}"
PREFIX="${BACKUP_PREFIX:-postgres-backups}"
SCRATCH="${TMPDIR:-/tmp}"
RCLONE="${RCLONE:-/opt/tools/rclone}"
[ -x "$RCLONE" ] || RCLONE="rclone"
# The writer may not create buckets; multipart chunks bound rclone's memory (chunk size x concurrency;
# 8M x 4 measured fastest and lean: README, Performance).
export RCLONE_S3_NO_CHECK_BUCKET="${RCLONE_S3_NO_CHECK_BUCKET:-true}"
export RCLONE_S3_CHUNK_SIZE="${RCLONE_S3_CHUNK_SIZE:-8M}"
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
LABEL="${DUMP_LABEL:-}"
[[ -z "$LABEL" || "$LABEL" =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || fail "DUMP_LABEL must be lowercase letters, digits and '-', not '${LABEL}'"
case "$THREADS" in [0-9] | [1-9][0-9]) ;; *) fail "ZSTD_THREADS must be 0..99, not $THREADS" ;; esac
[[ "$LOCK_TIMEOUT" =~ ^[1-9][0-9]*(ms|s|min|h)?$ ]] || fail "LOCK_TIMEOUT must be a PostgreSQL duration such as 30s, 2min or 500ms, not '${LOCK_TIMEOUT}'"
# An image other than the stock postgres alpine one may lack zstd: say so before touching the hub.
command -v zstd >/dev/null || fail "zstd is not installed in this image"
# pg_dump sets lock_timeout = 0 on its own connection (PostgreSQL's pg_dump.c, setup_connection), so
# PGOPTIONS cannot bound its wait for a lock; --lock-wait-timeout does (pg_dump issues its LOCK TABLE
# statements under that statement_timeout, getTables), and pg_dumpall hands it to every pg_dump it runs.
# The lock test in test/postgres/postgres.integration.test.ts shows it against a real server.
case "$MODE" in
  database)
    dump_cmd=(pg_dump --no-password --format=plain "--lock-wait-timeout=${LOCK_TIMEOUT}" "--dbname=${PGDATABASE:?PGDATABASE is required}")
    version_db="$PGDATABASE"
    trailer='-- PostgreSQL database dump complete'
    ;;
  cluster)
    dump_cmd=(pg_dumpall --no-password "--lock-wait-timeout=${LOCK_TIMEOUT}")
    version_db="${PGDATABASE:-postgres}"
    trailer='-- PostgreSQL database cluster dump complete'
    ;;
  *) fail "DUMP_MODE must be database or cluster, not $MODE" ;;
esac

# A few KiB of state (sizes, digest, trailer, the stages' messages) live here; the dump never does.
work="$(mktemp -d "${SCRATCH}/pg-dump.XXXXXX" 2>/dev/null)" || fail "cannot create a scratch directory in ${SCRATCH}: the disk is full or not writable"
job_groups=()
# A deadline kill (activeDeadlineSeconds) sends SIGTERM to this shell only. The stages run as
# background jobs in their own process groups (set -m), so `wait` returns at once, the trap stops
# every stage, and the EXIT trap removes the scratch directory (FIFOs included).
on_signal() {
  trap - TERM INT
  log "FAILED: stopped by SIG$1 (deadline or eviction): no dump was published; the staged upload, if any, expires"
  local g
  for g in "${job_groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit "$2"
}
trap 'rm -rf "$work"' EXIT
trap 'on_signal TERM 143' TERM
trap 'on_signal INT 130' INT
# Fails here, with a message that says so, rather than mid-dump with a misleading one.
head -c 65536 /dev/zero >"$work/probe" 2>/dev/null || fail "the scratch disk ${SCRATCH} is full: cannot write 64 KiB of working files"
rm -f "$work/probe"

# Fails fast (and says why) when the server is down or the password is wrong. The roles the dump may
# name go into the integrity record, so a restore into a scratch server can create them up front.
info="$(psql -X --no-password -d "$version_db" -At -c 'SHOW server_version' -c "SELECT coalesce(json_agg(rolname ORDER BY rolname), '[]') FROM pg_roles WHERE rolname !~ '^pg_'")" || fail "cannot connect to ${PGHOST:-local}:${PGPORT:-5432} as ${PGUSER:-?}"
server_version="${info%%$'\n'*}"
roles_json="${info#*$'\n'}"
dump_version="$("${dump_cmd[0]}" --version)"

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
base="${DUMP_NAME}-$(date -u +%Y%m%dT%H%M%SZ)${LABEL:+-${LABEL}}.sql.zst"
staging="hub:${HUB_BUCKET}/${PREFIX}/.partial/${base}"
final_key="${PREFIX}/${DUMP_NAME}/${base}"
final="hub:${HUB_BUCKET}/${final_key}"

mkfifo "$work/zst-sha" "$work/zst-check" || fail "cannot create FIFOs in ${SCRATCH} (disk full?)"
log "streaming ${MODE} dump (server ${server_version}) to ${staging#hub:}"
set -m
sha256sum <"$work/zst-sha" >"$work/sha256" &
sha_pid=$!
# Decompressing the uploaded bytes checks every zstd frame checksum and yields the SQL's last KiB.
(zstd -q -d -c <"$work/zst-check" | tail -c 1024 >"$work/trailer") &
check_pid=$!
# zstd writes a content checksum into every frame (its default), so restore also detects corruption.
# -vv prints the exact byte counts read and written (zstd's UTIL_makeHumanReadableSize does not round at
# that verbosity); the record test compares them with the object.
(
  set +e
  "${dump_cmd[@]}" 2>"$work/dump.err" | zstd -vv --no-progress -c "-T$THREADS" "-$LEVEL" 2>"$work/zstd.log" |
    tee "$work/zst-sha" "$work/zst-check" | "$RCLONE" rcat "$staging" 2>"$work/upload.err"
  echo "${PIPESTATUS[*]}" >"$work/status"
) &
pipe_pid=$!
job_groups=("$pipe_pid" "$sha_pid" "$check_pid")
set +e
wait "$pipe_pid"
wait "$sha_pid"
sha_status=$?
wait "$check_pid"
check_status=$?
set -e
set +m
cat "$work/dump.err" "$work/upload.err" >&2 2>/dev/null || true

# A lock another session holds (a migration's ACCESS EXCLUSIVE) ends pg_dump's LOCK TABLE after
# LOCK_TIMEOUT with a statement timeout: name the table, and who holds it while it is still held.
if grep -q 'canceling statement due to statement timeout' "$work/dump.err" 2>/dev/null; then
  table="$(sed -n 's/.*LOCK TABLE \(.*\) IN ACCESS SHARE MODE.*/\1/p' "$work/dump.err" | head -n 1)"
  holders="$(PGOPTIONS='-c statement_timeout=5s' psql -X --no-password -d "$version_db" -At -v t="${table}" 2>/dev/null <<'SQL' || true
SELECT string_agg(format('pid %s (%s, application %s, %s)', l.pid, l.mode, coalesce(nullif(a.application_name, ''), '-'), coalesce(a.state, '?')), '; ')
FROM pg_locks l JOIN pg_stat_activity a USING (pid)
WHERE l.granted AND l.relation = to_regclass(:'t') AND l.mode = 'AccessExclusiveLock';
SQL
)"
  fail "lock timeout: pg_dump waited more than ${LOCK_TIMEOUT} (LOCK_TIMEOUT) for an ACCESS SHARE lock on table ${table:-?}, which another session holds in a conflicting mode${holders:+ (held by ${holders})}"
fi

read -r -a status <"$work/status" 2>/dev/null || status=()
[ "${#status[@]}" -eq 4 ] || fail "the pipeline left no exit statuses (the scratch disk ${SCRATCH} may be full)"
# Every failed stage is named: a killed upload also shows up upstream as SIGPIPE (141).
stages=(dump zstd tee upload)
failed=""
for i in "${!stages[@]}"; do
  [ "${status[$i]}" -eq 0 ] || failed="${failed:+$failed, }${stages[$i]} stage exited with ${status[$i]}"
done
if [ "${status[3]}" -ne 0 ] && grep -qiE 'no space left|XMinioStorageFull|InsufficientStorage|storage full|quota exceeded' "$work/upload.err" 2>/dev/null; then
  failed="${failed}; the hub's disk is full"
fi
[ -z "$failed" ] || fail "$failed"
[ "$sha_status" -eq 0 ] || fail "the sha256 reader exited with ${sha_status}"
[ "$check_status" -eq 0 ] || fail "the compressed stream does not decompress (zstd -d | tail exited with ${check_status}): truncated or corrupt"
grep -qF -- "$trailer" "$work/trailer" || fail "the dump does not end with '${trailer}': truncated"

sizes="$(sed -n 's/.*( *\([0-9][0-9]*\) B => *\([0-9][0-9]*\) B, .*/\1 \2/p' "$work/zstd.log")"
read -r sql_size size <<<"$sizes" || true
[ -n "${size:-}" ] || fail "zstd reported no byte counts"
sha256="$(cut -d' ' -f1 <"$work/sha256")"
[ "${#sha256}" -eq 64 ] || fail "no sha256 was computed"
staged_size="$("$RCLONE" lsf --format s "$staging")" || fail "cannot read back the staged object"
[ "$staged_size" = "$size" ] || fail "staged object has ${staged_size:-no} bytes, ${size} were streamed (as zstd counted them)"

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
  printf '  "sqlSize": %s,\n' "$sql_size"
  printf '  "compression": "zstd -%s",\n' "$LEVEL"
  printf '  "complete": true,\n'
  printf '  "completenessCheck": %s,\n' "$(json_str "every stage exited 0; the decompressed upload ends with '${trailer}'; the staged object has the size zstd wrote")"
  printf '  "roles": %s,\n' "$roles_json"
  [ -z "$LABEL" ] || printf '  "label": "%s",\n' "$LABEL"
  printf '  "serverVersion": %s,\n' "$(json_str "$server_version")"
  printf '  "dumpVersion": %s,\n' "$(json_str "$dump_version")"
  printf '  "startedAt": "%s",\n' "$started"
  printf '  "finishedAt": "%s"\n' "$finished"
  printf '}\n'
} >"$work/record.json" || fail "cannot write the integrity record to the scratch disk ${SCRATCH} (disk full?)"
"$RCLONE" rcat "${final}.json" <"$work/record.json" || fail "writing the integrity record (the dump at ${final_key} has no record and is not used)"
if [ -n "$LABEL" ]; then
  log "complete: ${final_key} (${size} bytes, label ${LABEL}; latest.json unchanged)"
  exit 0
fi

{
  printf '{\n'
  printf '  "key": %s,\n' "$(json_str "$final_key")"
  printf '  "record": %s,\n' "$(json_str "${final_key}.json")"
  printf '  "size": %s,\n' "$size"
  printf '  "sha256": "%s",\n' "$sha256"
  printf '  "finishedAt": "%s"\n' "$finished"
  printf '}\n'
} >"$work/latest.json" || fail "cannot write latest.json to the scratch disk ${SCRATCH} (disk full?)"
"$RCLONE" rcat "hub:${HUB_BUCKET}/${PREFIX}/${DUMP_NAME}/latest.json" <"$work/latest.json" || fail "moving latest.json (the dump and its record are complete at ${final_key})"

log "complete: ${final_key} (${size} bytes, ${sql_size} bytes of SQL, sha256 ${sha256})"
