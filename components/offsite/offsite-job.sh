#!/bin/sh
# Entry point of the off-site CronJob (runOn: cluster): builds the rclone config in the pod's
# memory-backed /tmp from the Secret's values (passed to write-config.sh on stdin, never on a command
# line), drops them from the environment and runs the same sync script as the hub's systemd service.
# The run's record is the Job's own status (exit code), so no textfile is written.
set -eu
here=$(dirname "$0")
conf=${TMPDIR:-/tmp}/rclone.conf
printf '%s\n%s\n%s\n%s\n' "${OFFSITE_FTP_PASSWORD:?}" "${OFFSITE_ENCRYPTION_KEY:-}" "${OFFSITE_S3_ACCESS_KEY_ID:?}" "${OFFSITE_S3_SECRET_ACCESS_KEY:?}" |
  sh "$here/write-config.sh" "$conf"
unset OFFSITE_FTP_PASSWORD OFFSITE_ENCRYPTION_KEY OFFSITE_S3_ACCESS_KEY_ID OFFSITE_S3_SECRET_ACCESS_KEY
OFFSITE_RCLONE_CONFIG=$conf
export OFFSITE_RCLONE_CONFIG
exec sh "$here/offsite-sync.sh"
