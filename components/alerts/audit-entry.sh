#!/bin/sh
# Entry point of the audit exporter pod: defines the rclone remotes the exporter reads from the Secret's
# values, drops those values from the environment and starts the exporter (audit.mjs). The remotes are
# those of components/core/rclone-remotes.sh in its environment form (RCLONE_CONFIG_*, which audit.mjs
# passes on to rclone with an empty --config): remote `hub` with the audit reader's key, and with an
# off-site copy also its remotes ftp, offsite_raw and offsite. No config file is written.
#
# POSIX sh: runs in the pinned node alpine image (busybox). The helper is sourced from ../core/ beside
# this script's directory, as in components/ (the pod's scripts volume keeps that layout).
# Environment: AUDIT_S3_ACCESS_KEY_ID, AUDIT_S3_SECRET_ACCESS_KEY (Secret), AUDIT_S3_ENDPOINT,
# AUDIT_S3_REGION, AUDIT_S3_PROVIDER, AUDIT_S3_PATH_STYLE; with an off-site copy also OFFSITE_* as
# rclone_offsite_remotes reads them, OFFSITE_FTP_PASSWORD and OFFSITE_ENCRYPTION_KEY from the Secret.
set -eu
# shellcheck source-path=SCRIPTDIR source=../core/rclone-remotes.sh
. "$(dirname "$0")/../core/rclone-remotes.sh"
rclone_hub_remote "${AUDIT_S3_PROVIDER:?}" "${AUDIT_S3_ENDPOINT:?}" "${AUDIT_S3_REGION:?}" "${AUDIT_S3_PATH_STYLE:?}" \
  "${AUDIT_S3_ACCESS_KEY_ID:?}" "${AUDIT_S3_SECRET_ACCESS_KEY:?}"
if [ -n "${OFFSITE_FTP_HOST:-}" ]; then
  rclone_offsite_remotes
fi
unset OFFSITE_FTP_PASSWORD OFFSITE_ENCRYPTION_KEY AUDIT_S3_ACCESS_KEY_ID AUDIT_S3_SECRET_ACCESS_KEY
exec node "$(dirname "$0")/audit.mjs"
