#!/usr/bin/env bash
# Restore drill: proves the newest complete dump of one database restores and answers queries.
# Starts a scratch PostgreSQL server inside the pod (initdb in DRILL_DIR, listening only on a unix
# socket there), restores the dump with restore.sh (which checks sha256 and size against the
# integrity record first), runs every check-*.sql in CHECKS_DIR (each must succeed and return at least
# one row), then records the success at postgres-backups/<name>/drill/last-success.json. Exits
# non-zero on any failure; the drill CronJob's last successful run is what the alerts watch. When it
# ends, passed or not, it leaves its result and restore time where `npm run status` reads them with the
# cluster gone, status/drills/postgres/<name>.json (components/drills/drill-record.sh: with the dump
# writer's key, which may put there and nowhere else outside its prefix, components/hub/iam.ts).
#
# Environment: DUMP_NAME, HUB_BUCKET, CHECK_DATABASE (database the checks run in), DRILL_DIR
# (default /var/lib/drill, an emptyDir), CHECKS_DIR (default /scripts), SCRIPTS_DIR (default the
# directory of this script), PG_BINDIR (default: where pg_ctl is), BACKUP_PREFIX, RCLONE,
# RCLONE_CONFIG_HUB_*, DRILL_RECORD_CLASS / DRILL_RECORD_ITEM (default postgres / DUMP_NAME), and
# DRILL_RECORD_SH (drill-record.sh: beside this script in the pod, ../drills/ in a checkout).
set -euo pipefail

: "${DUMP_NAME:?DUMP_NAME is required}" "${HUB_BUCKET:?HUB_BUCKET is required}" "${CHECK_DATABASE:?CHECK_DATABASE is required}"
PREFIX="${BACKUP_PREFIX:-postgres-backups}"
DRILL_DIR="${DRILL_DIR:-/var/lib/drill}"
CHECKS_DIR="${CHECKS_DIR:-/scripts}"
SCRIPTS_DIR="${SCRIPTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
RCLONE="${RCLONE:-/opt/tools/rclone}"
[ -x "$RCLONE" ] || RCLONE="rclone"
export RCLONE RCLONE_S3_NO_CHECK_BUCKET="${RCLONE_S3_NO_CHECK_BUCKET:-true}"

log() { printf '%s pg-restore-drill %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$DUMP_NAME" "$*" >&2; }
DRILL_RECORD_SH="${DRILL_RECORD_SH:-$SCRIPTS_DIR/drill-record.sh}"
[ -f "$DRILL_RECORD_SH" ] || DRILL_RECORD_SH="$SCRIPTS_DIR/../drills/drill-record.sh"
# shellcheck source-path=SCRIPTDIR source=../drills/drill-record.sh
. "$DRILL_RECORD_SH"
export DRILL_RECORD_CLASS="${DRILL_RECORD_CLASS:-postgres}" DRILL_RECORD_ITEM="${DRILL_RECORD_ITEM:-$DUMP_NAME}"
drill_record_begin
fail() {
  log "FAILED: $*"
  drill_record_failed "$*"
  exit 1
}
data=""
stop_scratch() { [ -z "$data" ] || "$pgbin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true; }
on_exit() {
  local st=$?
  stop_scratch
  drill_record_write "$st"
  exit "$st"
}
trap on_exit EXIT

shopt -s nullglob
checks=("$CHECKS_DIR"/check-*.sql)
[ "${#checks[@]}" -gt 0 ] || fail "no check-*.sql in ${CHECKS_DIR}"

pgbin="${PG_BINDIR:-$(dirname "$(command -v pg_ctl)")}"
data="${DRILL_DIR}/data"
sock="${DRILL_DIR}/socket"
rm -rf "$data" "$sock"
mkdir -p "$sock"
# A superuser name no dump will contain, so every CREATE ROLE of a cluster dump succeeds.
superuser="drill_superuser"
"$pgbin/initdb" --no-sync --auth=trust --username="$superuser" --encoding=UTF8 --locale=C -D "$data" >/dev/null || fail "initdb of the scratch server"
"$pgbin/pg_ctl" -D "$data" -w -t 60 -l "${DRILL_DIR}/server.log" \
  -o "-c listen_addresses='' -c unix_socket_directories='${sock}' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null || { cat "${DRILL_DIR}/server.log" >&2; fail "scratch server did not start"; }

export PGHOST="$sock" PGUSER="$superuser" PGPORT=5432
unset PGPASSWORD
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
DUMP_KEY="" TARGET_DATABASE="$CHECK_DATABASE" RESTORE_CREATE_ROLES=1 bash "$SCRIPTS_DIR/restore.sh" || fail "the newest dump did not restore"
key="$(sed -n 's/^  "key": "\(.*\)",$/\1/p' <<<"$("$RCLONE" cat "hub:${HUB_BUCKET}/${PREFIX}/${DUMP_NAME}/latest.json")" | head -n 1)"
# shellcheck disable=SC2034 # read by drill_record_write (drill-record.sh, sourced above)
drill_record_restored="$key"

for check in "${checks[@]}"; do
  out="$(psql -X --no-password -v ON_ERROR_STOP=1 -At -d "$CHECK_DATABASE" -f "$check")" || fail "check $(basename "$check") failed"
  [ -n "$out" ] || fail "check $(basename "$check") returned no row"
  log "check $(basename "$check"): ok ($(wc -l <<<"$out") rows)"
done

finished="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '{\n  "key": "%s",\n  "checks": %s,\n  "startedAt": "%s",\n  "finishedAt": "%s"\n}\n' "$key" "${#checks[@]}" "$started" "$finished" |
  "$RCLONE" rcat "hub:${HUB_BUCKET}/${PREFIX}/${DUMP_NAME}/drill/last-success.json" ||
  log "warning: could not write drill/last-success.json (the job's own success is still recorded)"
log "passed: ${key} restored and ${#checks[@]} checks returned rows"
