#!/usr/bin/env bash
# Restores one dump written by dump.sh into a target: the dump named by DUMP_KEY, or the newest one
# (latest.json). The compressed object is first checked against the sha256 and size of its integrity
# record, then streamed through zstd -d into psql with ON_ERROR_STOP: any error fails the run loudly.
# (Dumps written before the switch to zstd end in .sql.gz and are decompressed with gzip.)
#   database mode: into TARGET_DATABASE (created when missing; refused when it already holds tables),
#                  in one transaction, so a failed restore leaves the target empty.
#   cluster mode:  into the server PGHOST points at (roles and databases; meant for a fresh server).
#
# Environment: DUMP_NAME, HUB_BUCKET, DUMP_KEY (optional: a key or a file name under the dump's
# folder), TARGET_DATABASE, PGHOST, PGPORT, PGUSER, PGPASSWORD, BACKUP_PREFIX, RCLONE,
# RESTORE_CREATE_ROLES=1 (create the roles the dump names that the target lacks: the drill's scratch
# server), RCLONE_CONFIG_HUB_*.
set -euo pipefail

: "${DUMP_NAME:?DUMP_NAME is required}" "${HUB_BUCKET:?HUB_BUCKET is required}"
PREFIX="${BACKUP_PREFIX:-postgres-backups}"
RCLONE="${RCLONE:-/opt/tools/rclone}"
[ -x "$RCLONE" ] || RCLONE="rclone"
export RCLONE_S3_NO_CHECK_BUCKET="${RCLONE_S3_NO_CHECK_BUCKET:-true}"
hub="hub:${HUB_BUCKET}"

log() { printf '%s pg-restore %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$DUMP_NAME" "$*" >&2; }
fail() {
  log "FAILED: $*"
  exit 1
}
# Reads `"field": value` from the one-key-per-line JSON that dump.sh writes.
field() { sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" <<<"$2" | head -n 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/pg-restore.XXXXXX")"
trap 'rm -rf "$work"' EXIT

key="${DUMP_KEY:-}"
if [ -z "$key" ]; then
  latest="$("$RCLONE" cat "${hub}/${PREFIX}/${DUMP_NAME}/latest.json")" || fail "no latest.json for ${DUMP_NAME}: no complete dump exists"
  key="$(field key "$latest")"
  [ -n "$key" ] || fail "latest.json names no dump"
elif [[ "$key" != */* ]]; then
  key="${PREFIX}/${DUMP_NAME}/${key}"
fi
record="$("$RCLONE" cat "${hub}/${key}.json")" || fail "${key} has no integrity record: it is not a complete dump"
want_sha="$(field sha256 "$record")"
want_size="$(field size "$record")"
mode="$(field mode "$record")"
if [ "$(field complete "$record")" != "true" ] || [ -z "$want_sha" ]; then fail "the record of ${key} does not mark it complete"; fi
case "$key" in
  *.sql.zst) decompress=(zstd -q -d -c) ;;
  *.sql.gz) decompress=(gzip -d -c) ;;
  *) fail "${key} is neither .sql.zst nor .sql.gz" ;;
esac
command -v "${decompress[0]}" >/dev/null || fail "${decompress[0]} is not installed in this image"

log "verifying ${key} (${want_size} bytes, ${mode} dump)"
size="$("$RCLONE" lsf --format s "${hub}/${key}")" || fail "cannot read ${key}"
[ "$size" = "$want_size" ] || fail "${key} has ${size} bytes, its record says ${want_size}: corrupt"
if [ "${RESTORE_CREATE_ROLES:-0}" = "1" ] && [ "$mode" = "database" ]; then
  # (A cluster dump creates its own roles.) Same pass: collect the roles the dump grants to or makes owners, so a scratch server has them.
  mkfifo "$work/sql"
  "${decompress[@]}" <"$work/sql" | sed -n \
    -e 's/^ALTER .* OWNER TO \(.*\);$/\1/p' \
    -e 's/^GRANT .* TO \(.*\);$/\1/p' \
    -e 's/^REVOKE .* FROM \(.*\);$/\1/p' \
    -e 's/^ALTER DEFAULT PRIVILEGES FOR ROLE \([^ ]*\) .*/\1/p' |
    sed -e 's/ WITH GRANT OPTION$//' -e 's/ GRANTED BY .*$//' | sort -u >"$work/roles" &
  roles_pid=$!
  got_sha="$("$RCLONE" cat "${hub}/${key}" | tee "$work/sql" | sha256sum | cut -d' ' -f1)" || fail "cannot read ${key}"
  wait "$roles_pid" || fail "${key} does not decompress: corrupt"
else
  got_sha="$("$RCLONE" cat "${hub}/${key}" | sha256sum | cut -d' ' -f1)" || fail "cannot read ${key}"
fi
[ "$got_sha" = "$want_sha" ] || fail "${key} has sha256 ${got_sha}, its record says ${want_sha}: corrupt"

psql_base=(psql -X --no-password --quiet -v ON_ERROR_STOP=1)
if [ -s "$work/roles" ]; then
  while IFS= read -r role; do
    case "$role" in PUBLIC | "") continue ;; esac
    # The name is an identifier exactly as pg_dump quoted it; an existing role is fine.
    "${psql_base[@]}" -d postgres -c "DO \$\$BEGIN CREATE ROLE ${role}; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$;" >/dev/null || fail "creating role ${role}"
  done <"$work/roles"
fi

case "$mode" in
  database)
    target="${TARGET_DATABASE:?TARGET_DATABASE is required for a database dump}"
    exists="$(printf '%s\n' "SELECT 1 FROM pg_database WHERE datname = :'target'" | "${psql_base[@]}" -At -d postgres -v target="$target")" || fail "cannot connect to ${PGHOST:-local}:${PGPORT:-5432}"
    if [ "$exists" = "1" ]; then
      tables="$("${psql_base[@]}" -At -d "$target" -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'")"
      [ "$tables" = "0" ] || fail "target database ${target} already holds ${tables} tables; restore into a new name (TARGET_DATABASE) and swap"
    else
      printf '%s\n' 'CREATE DATABASE :"target"' | "${psql_base[@]}" -d postgres -v target="$target" || fail "cannot create database ${target}"
    fi
    log "restoring into database ${target}"
    "$RCLONE" cat "${hub}/${key}" | "${decompress[@]}" | "${psql_base[@]}" --single-transaction -d "$target" >/dev/null || fail "restore into ${target} failed; the transaction was rolled back"
    ;;
  cluster)
    log "restoring the whole cluster dump into ${PGHOST:-local}:${PGPORT:-5432}"
    # pg_dumpall always emits CREATE ROLE for the role it ran as, which exists wherever one can connect.
    "$RCLONE" cat "${hub}/${key}" | "${decompress[@]}" | grep -vxF -e "CREATE ROLE ${PGUSER:-postgres};" -e "CREATE ROLE \"${PGUSER:-postgres}\";" |
      "${psql_base[@]}" -d postgres >/dev/null || fail "cluster restore failed"
    ;;
  *) fail "the record of ${key} names an unknown mode '${mode}'" ;;
esac
log "restored ${key}"
