#!/bin/sh
# Writes the off-site copy's rclone config: remote `hub` (the hub bucket's S3 API, read with the
# offsite reader's credentials), remote `ftp` (the FTP(S) server), remote `offsite_raw` (ftp:<path>,
# what the provider stores) and remote `offsite` (rclone crypt over offsite_raw:, or a plain alias of
# it when encryption is off). The sync script only ever names these remotes. The remotes are those of
# components/core/rclone-remotes.sh, printed in its config-file form: a file, because the hub's systemd
# timer runs the sync long after `pulumi up` has handed over the secrets.
#
# POSIX sh, not bash: the same script runs on the hub and in the stock rclone/alpine image (busybox).
# The helper is sourced from ../core/ beside this script's directory, as in components/ (the hub's
# staging directory and the pod's scripts volume keep that layout).
#
# Usage: write-config.sh <destination file>
# Non-secret settings come from the environment (OFFSITE_*; see below). Secrets come on stdin, one per
# line, in this order: FTP password, encryption key (an empty line when encryption is off), hub S3
# access key id, hub S3 secret access key. They never appear on a command line; passwords are stored
# in rclone's obscured form (`rclone obscure -`, fed through a pipe from a shell builtin).
# The file is written root-only (0600) and atomically (temp file + mv).
set -eu

dest=${1:?usage: write-config.sh <destination file>}
: "${OFFSITE_FTP_HOST:?}" "${OFFSITE_FTP_PORT:?}" "${OFFSITE_FTP_USER:?}" "${OFFSITE_FTP_PATH:?}"
: "${OFFSITE_FTP_EXPLICIT_TLS:?}" "${OFFSITE_ENCRYPTION:?}" "${OFFSITE_FILENAME_ENCRYPTION:?}"
: "${OFFSITE_S3_ENDPOINT:?}" "${OFFSITE_S3_REGION:?}" "${OFFSITE_S3_PROVIDER:?}" "${OFFSITE_S3_PATH_STYLE:?}"

# shellcheck source-path=SCRIPTDIR source=../core/rclone-remotes.sh
. "$(dirname "$0")/../core/rclone-remotes.sh"

# Read into the names rclone_print_offsite_remotes reads, unset first: only stdin counts, and a value
# read into a variable that is no longer exported reaches no child process (rclone obscure).
unset OFFSITE_FTP_PASSWORD OFFSITE_ENCRYPTION_KEY
IFS= read -r OFFSITE_FTP_PASSWORD || true
IFS= read -r OFFSITE_ENCRYPTION_KEY || true
IFS= read -r s3_key_id || true
IFS= read -r s3_secret || true
[ -n "$OFFSITE_FTP_PASSWORD" ] || { echo "write-config: no FTP password on stdin" >&2; exit 2; }
if [ -z "$s3_key_id" ] || [ -z "$s3_secret" ]; then
  echo "write-config: no hub S3 credentials on stdin" >&2
  exit 2
fi
if [ "$OFFSITE_ENCRYPTION" = true ] && [ -z "$OFFSITE_ENCRYPTION_KEY" ]; then
  echo "write-config: encryption is on but no encryption key on stdin" >&2
  exit 2
fi

umask 077
dir=$(dirname "$dest")
mkdir -p "$dir"
tmp=$(mktemp "$dir/.rclone.conf.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
  rclone_print_hub_remote "$OFFSITE_S3_PROVIDER" "$OFFSITE_S3_ENDPOINT" "$OFFSITE_S3_REGION" "$OFFSITE_S3_PATH_STYLE" \
    "$s3_key_id" "$s3_secret"
  echo
  rclone_print_offsite_remotes
} >"$tmp"
chmod 0600 "$tmp"
mv -f "$tmp" "$dest"
trap - EXIT
