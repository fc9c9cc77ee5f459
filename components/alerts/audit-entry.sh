#!/bin/sh
# Entry point of the audit exporter pod: writes the rclone config into the pod's memory-backed /tmp
# from the Secret's values (on stdin, never on a command line), drops them from the environment and
# starts the exporter (audit.mjs). With an off-site copy, the config is the off-site copy's own
# (components/offsite/write-config.sh: remotes hub, ftp, offsite_raw and offsite), with the audit
# reader's hub key; without one, it holds the `hub` remote only.
#
# POSIX sh: runs in the pinned node alpine image (busybox).
# Environment: AUDIT_S3_ACCESS_KEY_ID, AUDIT_S3_SECRET_ACCESS_KEY (Secret), AUDIT_S3_ENDPOINT,
# AUDIT_S3_REGION, AUDIT_S3_PROVIDER, AUDIT_S3_PATH_STYLE; with an off-site copy also OFFSITE_* as
# write-config.sh reads them plus OFFSITE_FTP_PASSWORD and OFFSITE_ENCRYPTION_KEY (Secret).
set -eu
here=$(dirname "$0")
conf=${TMPDIR:-/tmp}/rclone.conf
umask 077
if [ -n "${OFFSITE_FTP_HOST:-}" ]; then
  printf '%s\n%s\n%s\n%s\n' "${OFFSITE_FTP_PASSWORD:?}" "${OFFSITE_ENCRYPTION_KEY:-}" "${AUDIT_S3_ACCESS_KEY_ID:?}" "${AUDIT_S3_SECRET_ACCESS_KEY:?}" |
    OFFSITE_S3_ENDPOINT=$AUDIT_S3_ENDPOINT OFFSITE_S3_REGION=$AUDIT_S3_REGION OFFSITE_S3_PROVIDER=$AUDIT_S3_PROVIDER OFFSITE_S3_PATH_STYLE=$AUDIT_S3_PATH_STYLE \
      RCLONE=${RCLONE:-rclone} sh "$here/write-config.sh" "$conf"
else
  tmp=$(mktemp "$conf.XXXXXX")
  {
    printf '[hub]\ntype = s3\nprovider = %s\nendpoint = %s\nregion = %s\n' "${AUDIT_S3_PROVIDER:?}" "${AUDIT_S3_ENDPOINT:?}" "${AUDIT_S3_REGION:?}"
    printf 'access_key_id = %s\nsecret_access_key = %s\n' "${AUDIT_S3_ACCESS_KEY_ID:?}" "${AUDIT_S3_SECRET_ACCESS_KEY:?}"
    # The reader may only list and get: never try to create the bucket.
    printf 'force_path_style = %s\nno_check_bucket = true\n' "${AUDIT_S3_PATH_STYLE:?}"
  } >"$tmp"
  mv -f "$tmp" "$conf"
fi
unset OFFSITE_FTP_PASSWORD OFFSITE_ENCRYPTION_KEY AUDIT_S3_ACCESS_KEY_ID AUDIT_S3_SECRET_ACCESS_KEY
AUDIT_RCLONE_CONFIG=$conf
export AUDIT_RCLONE_CONFIG
exec node "$here/audit.mjs"
