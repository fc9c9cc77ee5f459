# shellcheck shell=sh
# The last result of a restore drill, written to the hub where `npm run status` reads it with the
# cluster gone (tools/status.ts, components/alerts/hubReader.mjs readDrillRecord):
#   status/drills/<DRILL_RECORD_CLASS>/<DRILL_RECORD_ITEM>.json (components/core/schema.ts drillRecordKey)
#   {"format":"homelab-backup/drill-result/v1","class":..,"item":..,"result":"passed"|"failed",
#    "startedAt":..,"finishedAt":..,"seconds":N,"restoreSeconds":N (passed only),"restored":..,"reason":..}
# `seconds` is the script's own start to end; on a pass that is the measured restore time: start to
# restored-and-checked data (the Job's duration, which the alerts read, adds only the image pulls).
#
# Sourced by every drill script (components/drills/*-drill.sh, components/postgres/restore-drill.sh),
# which calls drill_record_begin first, sets drill_record_restored to what it restored (a restore
# point's key), notes its failures with drill_record_failed (the first one noted is the record's
# reason: later ones are mostly its consequences or a count), and calls drill_record_write with its
# exit status from its EXIT trap, so a failure, a timeout and SIGTERM leave a record too.
#
# A record that cannot be written does not change the drill's exit status: the Job's status is the
# drill's verdict, and its duration the RTO the alerts measure (components/drills/alerts.ts), which a
# failed Job would lose. The failure is logged ("status record NOT written") and `npm run status` then
# shows the previous record with its age, so a record that stops being written shows as an old drill.
#
# Environment: DRILL_RECORD_CLASS, DRILL_RECORD_ITEM (without them nothing is written, and that is
# logged), DRILL_RECORD_BUCKET (default HUB_BUCKET), DRILL_RECORD_REMOTE (hub), RCLONE (rclone); the
# remote from the environment (RCLONE_CONFIG_HUB_*), with a key that may put under status/drills/
# (components/hub/iam.ts).
# POSIX sh: runs under BusyBox (alpine, the etcd drill's static busybox) and under bash.

drill_record_started=""
drill_record_started_at=""
drill_record_restored=""
# Failure messages go to a file: a message logged in a pipeline's subshell would not reach a variable.
drill_record_reason_file=""

drill_record_log() { printf '%s drill-record: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

drill_record_begin() {
  drill_record_started=$(date -u +%s)
  drill_record_started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  drill_record_reason_file=$(mktemp "${TMPDIR:-/tmp}/drill-reason.XXXXXX")
}

# The reason of a failure: the first one noted is kept.
drill_record_failed() {
  [ -z "$drill_record_reason_file" ] || [ -s "$drill_record_reason_file" ] || printf '%s\n' "$*" > "$drill_record_reason_file"
}

# drill_record_note <a log message>: one that starts with "FAILED: " is noted as the failure.
drill_record_note() {
  case "$1" in "FAILED: "*) drill_record_failed "${1#FAILED: }" ;; esac
}

# A JSON string's content: backslashes and quotes escaped, control characters (newlines too) as spaces.
drill_record_json() { printf '%s' "$1" | tr '\000-\037' ' ' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

# drill_record_write <exit status of the drill>: returns 0 whether or not the record was written.
drill_record_write() {
  _dr_status=$1
  _dr_reason=""
  if [ -n "$drill_record_reason_file" ] && [ -f "$drill_record_reason_file" ]; then
    _dr_reason=$(cat "$drill_record_reason_file")
    rm -f "$drill_record_reason_file"
  fi
  if [ -z "${DRILL_RECORD_CLASS:-}" ] || [ -z "${DRILL_RECORD_ITEM:-}" ]; then
    drill_record_log "status record NOT written: DRILL_RECORD_CLASS and DRILL_RECORD_ITEM are not set"
    return 0
  fi
  _dr_now=$(date -u +%s)
  _dr_seconds=$((_dr_now - ${drill_record_started:-$_dr_now}))
  if [ "$_dr_status" -eq 0 ]; then
    _dr_result=passed
    _dr_restore=",\"restoreSeconds\":$_dr_seconds"
  else
    _dr_result=failed
    _dr_restore=""
    [ -n "$_dr_reason" ] || _dr_reason="exit status $_dr_status"
  fi
  _dr_key="status/drills/$DRILL_RECORD_CLASS/$DRILL_RECORD_ITEM.json"
  _dr_target="${DRILL_RECORD_REMOTE:-hub}:${DRILL_RECORD_BUCKET:-${HUB_BUCKET:-}}/$_dr_key"
  _dr_err=$(mktemp "${TMPDIR:-/tmp}/drill-record.XXXXXX")
  # --s3-no-head: no HEAD after the upload (the status readers' rights need none, see hubReader.mjs).
  if printf '{"format":"homelab-backup/drill-result/v1","class":"%s","item":"%s","result":"%s","startedAt":"%s","finishedAt":"%s","seconds":%s%s,"restored":"%s","reason":"%s"}\n' \
    "$(drill_record_json "$DRILL_RECORD_CLASS")" "$(drill_record_json "$DRILL_RECORD_ITEM")" "$_dr_result" \
    "${drill_record_started_at:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$_dr_seconds" \
    "$_dr_restore" "$(drill_record_json "$drill_record_restored")" "$(drill_record_json "$_dr_reason")" |
    "${RCLONE:-rclone}" --config "" --retries 3 --low-level-retries 5 --s3-no-head --s3-no-check-bucket \
      rcat "$_dr_target" 2> "$_dr_err"; then
    drill_record_log "recorded $_dr_result at $_dr_key"
  else
    drill_record_log "status record NOT written to $_dr_key: $(tail -n 1 "$_dr_err"); the drill's own result stands (exit $_dr_status)"
  fi
  rm -f "$_dr_err"
  return 0
}

# drill_record_on_exit <work directory>: for a drill whose only clean-up is its work directory. On every
# way out, removes it and writes the record with the drill's exit status; a signal exits through the
# same trap.
drill_record_on_exit() {
  drill_record_work=$1
  trap drill_record_exit EXIT
  trap 'exit 1' INT TERM
}
drill_record_exit() {
  _dr_exit_status=$?
  rm -rf "$drill_record_work"
  drill_record_write "$_dr_exit_status"
  exit "$_dr_exit_status"
}
