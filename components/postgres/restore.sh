#!/usr/bin/env bash
# Restores one dump written by dump.sh into a target: the dump named by DUMP_KEY, or the newest one
# (latest.json). The object is downloaded once: its bytes are hashed (sha256) on their way into
# zstd -d | psql with ON_ERROR_STOP, and the restore commits only when the digest and the size equal
# those of the integrity record; otherwise it is rolled back. Any error fails the run loudly.
# (Dumps written before the switch to zstd end in .sql.gz and are decompressed with gzip.)
#   database mode: into TARGET_DATABASE (created when missing and dropped again when the restore fails;
#                  refused when it already holds tables), in one transaction that commits only after
#                  the checks, so a failed or corrupt restore leaves nothing behind. Creating a database
#                  needs CREATEDB, which an application's own role usually lacks: then
#   RESTORE_MODE=replace: restores over the database itself, as its owner (PGUSER must own it): first a
#                  safety dump of what it holds now (dump.sh with DUMP_LABEL=pre-restore: its own key and
#                  record, latest.json unchanged), then ONE transaction that drops everything the owner
#                  owns in it (DROP OWNED BY CURRENT_USER), replays the dump and commits only when the
#                  digest is the recorded one; any failure rolls back to exactly what was there.
#   cluster mode:  into the server PGHOST points at (roles and databases; meant for a fresh server).
#                  CREATE DATABASE cannot run inside a transaction, so nothing could roll a cluster
#                  restore back: here the object is verified first and then restored (two downloads).
#
# Other actions: `--list` prints every dump of DUMP_NAME, newest first, with the DUMP_KEY to give;
# `--swap` renames TARGET_DATABASE (a database restored under a new name) into PGDATABASE's place and
# keeps the old one as <PGDATABASE>_before_restore_<time> (no session may be connected to either).
#
# Environment: DUMP_NAME, HUB_BUCKET, DUMP_KEY (optional: a key or a file name under the dump's
# folder), RESTORE_MODE (new: the default, or replace), TARGET_DATABASE, PGDATABASE, PGHOST, PGPORT, PGUSER, PGPASSWORD, BACKUP_PREFIX, RCLONE,
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

psql_base=(psql -X --no-password --quiet -v ON_ERROR_STOP=1)

# --list: one line per dump, newest first, read from the integrity records (a dump without one is not
# complete and is not listed); the first column is what DUMP_KEY takes.
if [ "${1:-}" = "--list" ]; then
  dir="${hub}/${PREFIX}/${DUMP_NAME}"
  "$RCLONE" lsf --files-only --include '*.sql.zst.json' --include '*.sql.gz.json' "${dir}/" >"$work/records" || fail "cannot list ${PREFIX}/${DUMP_NAME}/"
  latest_key="$("$RCLONE" cat "${dir}/latest.json" 2>/dev/null | sed -n 's/^  "key": "\(.*\)",$/\1/p')" || true
  printf '%-52s %-20s %14s  %s\n' DUMP_KEY FINISHED BYTES NOTE
  sort -r "$work/records" | while IFS= read -r rec; do
    r="$("$RCLONE" cat "${dir}/${rec}")" || fail "cannot read ${rec}"
    file="${rec%.json}"
    note="$(field label "$r")"
    [ "$(field complete "$r")" = "true" ] || note="incomplete"
    [ "${PREFIX}/${DUMP_NAME}/${file}" != "$latest_key" ] || note="latest${note:+, $note}"
    printf '%-52s %-20s %14s  %s\n' "$file" "$(field finishedAt "$r")" "$(field size "$r")" "$note"
  done
  exit 0
fi

# --swap: the restored database takes the original's name; the original is kept under another.
if [ "${1:-}" = "--swap" ]; then
  restored="${TARGET_DATABASE:?TARGET_DATABASE (the restored database) is required}"
  original="${PGDATABASE:?PGDATABASE (the database to replace) is required}"
  kept="${original}_before_restore_$(date -u +%Y%m%d%H%M%S)"
  [ "$restored" != "$original" ] || fail "TARGET_DATABASE and PGDATABASE are both ${original}"
  sessions="$(printf '%s\n' "SELECT count(*) FROM pg_stat_activity WHERE datname IN (:'a', :'b') AND pid <> pg_backend_pid()" | "${psql_base[@]}" -At -d postgres -v a="$original" -v b="$restored")" || fail "cannot connect to ${PGHOST:-local}:${PGPORT:-5432}"
  [ "$sessions" = "0" ] || fail "${sessions} session(s) are connected to ${original} or ${restored}: scale the application down first (kubectl scale --replicas=0)"
  printf '%s\n' 'ALTER DATABASE :"a" RENAME TO :"k";' 'ALTER DATABASE :"b" RENAME TO :"a";' |
    "${psql_base[@]}" -d postgres -v a="$original" -v b="$restored" -v k="$kept" || fail "renaming failed (renaming a database needs its owner with CREATEDB, or a superuser)"
  log "swapped: ${restored} is now ${original}; the previous ${original} is kept as ${kept} (drop it once the application is checked)"
  exit 0
fi

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

log "restoring ${key} (${want_size} bytes, ${mode} dump)"
size="$("$RCLONE" lsf --format s "${hub}/${key}")" || fail "cannot read ${key}"
[ "$size" = "$want_size" ] || fail "${key} has ${size} bytes, its record says ${want_size}: corrupt"

# Roles a database dump grants to or makes owners of, for a scratch server that lacks them (a cluster
# dump creates its own). dump.sh records them; an older record has none, and then the dump is scanned
# for them in an extra pass.
roles_json="$(sed -n 's/^  "roles": \(\[.*\]\),$/\1/p' <<<"$record" | head -n 1)"
if [ "${RESTORE_CREATE_ROLES:-0}" = "1" ] && [ "$mode" = "database" ] && [ -z "$roles_json" ]; then
  "$RCLONE" cat "${hub}/${key}" | "${decompress[@]}" | sed -n \
    -e 's/^ALTER .* OWNER TO \(.*\);$/\1/p' \
    -e 's/^GRANT .* TO \(.*\);$/\1/p' \
    -e 's/^REVOKE .* FROM \(.*\);$/\1/p' \
    -e 's/^ALTER DEFAULT PRIVILEGES FOR ROLE \([^ ]*\) .*/\1/p' |
    sed -e 's/ WITH GRANT OPTION$//' -e 's/ GRANTED BY .*$//' | sort -u >"$work/roles" || fail "${key} does not decompress: corrupt"
  while IFS= read -r role; do
    case "$role" in PUBLIC | "") continue ;; esac
    # The name is an identifier exactly as pg_dump quoted it; an existing role is fine.
    "${psql_base[@]}" -d postgres -c "DO \$\$BEGIN CREATE ROLE ${role}; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$;" >/dev/null || fail "creating role ${role}"
  done <"$work/roles"
fi

# Streams the object once into `$@`: its bytes go through sha256sum on the way to the decompressor.
# Writes the stages' exit statuses and the digest to $work/stream.
stream_checked() {
  local st
  mkfifo "$work/sha-in"
  sha256sum <"$work/sha-in" >"$work/sha" &
  local sha_pid=$!
  set +e
  "$RCLONE" cat "${hub}/${key}" | tee "$work/sha-in" | "${decompress[@]}"
  st="${PIPESTATUS[*]}"
  wait "$sha_pid"
  st="$st $?"
  set -e
  printf '%s %s\n' "$st" "$(cut -d' ' -f1 <"$work/sha")" >"$work/stream"
}
# Passes when every stage exited 0 and the digest is the recorded one.
stream_ok() {
  local a b c d got
  read -r a b c d got <"$work/stream" || return 1
  [ "$a$b$c$d" = "0000" ] && [ "$got" = "$want_sha" ]
}
stream_failure() {
  local a b c d got
  read -r a b c d got <"$work/stream" || { echo "the download did not complete"; return; }
  if [ "$a" != 0 ]; then echo "cannot read ${key} (rclone exited with ${a})"
  elif [ "$got" != "$want_sha" ]; then echo "${key} has sha256 ${got}, its record says ${want_sha}: corrupt"
  else echo "${key} does not decompress: corrupt (tee ${b}, ${decompress[0]} ${c}, sha256sum ${d})"; fi
}

case "$mode" in
  database)
    restore_mode="${RESTORE_MODE:-new}"
    case "$restore_mode" in new | replace) ;; *) fail "RESTORE_MODE must be new or replace, not ${restore_mode}" ;; esac
    if [ "$restore_mode" = "replace" ]; then
      target="${TARGET_DATABASE:-${PGDATABASE:?TARGET_DATABASE or PGDATABASE is required}}"
    else
      target="${TARGET_DATABASE:?TARGET_DATABASE is required for a database dump}"
    fi
    who="$(printf '%s\n' "SELECT (SELECT 1 FROM pg_database WHERE datname = :'target'), (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :'target'), rolcreatedb OR rolsuper, current_user FROM pg_roles WHERE rolname = current_user" | "${psql_base[@]}" -At -F '|' -d postgres -v target="$target")" || fail "cannot connect to ${PGHOST:-local}:${PGPORT:-5432}"
    IFS='|' read -r exists owner may_create me <<<"$who"
    [ "$exists" = "1" ] || exists=""
    created=0
    if [ "$restore_mode" = "replace" ]; then
      [ -n "$exists" ] || fail "RESTORE_MODE=replace: database ${target} does not exist; restore it under a new name (RESTORE_MODE=new)"
      [ "$owner" = "$me" ] || fail "RESTORE_MODE=replace runs as the owner of ${target} (${owner}), not ${me}"
      log "safety dump of ${target} as it is now, before replacing it"
      DUMP_LABEL=pre-restore DUMP_MODE=database PGDATABASE="$target" bash "$(dirname "$0")/dump.sh" || fail "the safety dump of ${target} failed: nothing was changed"
      log "replacing the contents of ${target} with ${key}"
      set +e
      {
        printf 'BEGIN;\nDROP OWNED BY CURRENT_USER;\n'
        stream_checked
        if stream_ok; then printf '\nCOMMIT;\n'; else printf '\nROLLBACK;\n'; fi
      } | "${psql_base[@]}" -d "$target" >/dev/null
      psql_status=$?
      set -e
      [ "$psql_status" -eq 0 ] || fail "restore into ${target} failed (psql exited with ${psql_status}); the transaction was rolled back: ${target} is as it was"
      stream_ok || fail "$(stream_failure); the transaction was rolled back: ${target} is as it was"
      log "restored ${key} over ${target} (the safety dump is listed by --list, label pre-restore)"
      exit 0
    fi
    if [ -z "$exists" ] && [ "$may_create" != "t" ]; then
      fail "${me} may not create databases (no CREATEDB). Restore over ${PGDATABASE:-the database} as its owner with RESTORE_MODE=replace (a safety dump is taken first), or run this restore with a role that has CREATEDB"
    fi
    if [ "$exists" = "1" ]; then
      tables="$("${psql_base[@]}" -At -d "$target" -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'")"
      [ "$tables" = "0" ] || fail "target database ${target} already holds ${tables} tables; restore into a new name (TARGET_DATABASE) and swap"
    else
      printf '%s\n' 'CREATE DATABASE :"target"' | "${psql_base[@]}" -d postgres -v target="$target" || fail "cannot create database ${target}"
      created=1
    fi
    drop_created() {
      if [ "$created" = "1" ]; then
        printf '%s\n' 'DROP DATABASE IF EXISTS :"target"' | "${psql_base[@]}" -d postgres -v target="$target" || log "warning: could not drop ${target}, which this restore created"
      fi
    }
    log "restoring into database ${target}"
    # One transaction, one download: the roles (drill), the whole dump, then COMMIT only if the bytes
    # hashed on the way in are the recorded ones; ROLLBACK otherwise.
    set +e
    {
      printf 'BEGIN;\n'
      if [ "${RESTORE_CREATE_ROLES:-0}" = "1" ] && [ -n "$roles_json" ]; then
        printf '%s\n' "SELECT format('CREATE ROLE %I', r) FROM json_array_elements_text(:'roles'::json) AS r WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \\gexec"
      fi
      stream_checked
      if stream_ok; then printf '\nCOMMIT;\n'; else printf '\nROLLBACK;\n'; fi
    } | "${psql_base[@]}" -v roles="${roles_json:-[]}" -d "$target" >/dev/null
    psql_status=$?
    set -e
    # psql first: when it stops on an error, the stream behind it breaks too (SIGPIPE).
    if [ "$psql_status" -ne 0 ]; then
      drop_created
      # psql stopped at the first statement it refused, so the hash of the stream behind it never
      # finished. A corrupt object can decompress into such a statement before zstd reaches its
      # checksum: hash the object on its own (a second download, on this failure path only) to say
      # which it was.
      if got="$("$RCLONE" cat "${hub}/${key}" | sha256sum | cut -d' ' -f1)" && [ "$got" != "$want_sha" ]; then
        fail "${key} has sha256 ${got}, its record says ${want_sha}: corrupt; the restore into ${target} was rolled back"
      fi
      fail "restore into ${target} failed (psql exited with ${psql_status}); the transaction was rolled back"
    fi
    if ! stream_ok; then
      drop_created
      fail "$(stream_failure); the restore into ${target} was rolled back"
    fi
    ;;
  cluster)
    # Verified first: see the header.
    stream_checked >/dev/null
    stream_ok || fail "$(stream_failure)"
    log "restoring the whole cluster dump into ${PGHOST:-local}:${PGPORT:-5432}"
    # pg_dumpall always emits CREATE ROLE for the role it ran as, which exists wherever one can connect.
    "$RCLONE" cat "${hub}/${key}" | "${decompress[@]}" | grep -vxF -e "CREATE ROLE ${PGUSER:-postgres};" -e "CREATE ROLE \"${PGUSER:-postgres}\";" |
      "${psql_base[@]}" -d postgres >/dev/null || fail "cluster restore failed"
    ;;
  *) fail "the record of ${key} names an unknown mode '${mode}'" ;;
esac
log "restored ${key}"
