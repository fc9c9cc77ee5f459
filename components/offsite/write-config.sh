#!/bin/sh
# Writes the off-site copy's rclone config: remote `hub` (the hub bucket's S3 API, read with the
# offsite reader's credentials), remote `ftp` (the FTP(S) server), remote `offsite_raw` (ftp:<path>,
# what the provider stores) and remote `offsite` (rclone crypt over offsite_raw:, or a plain alias of
# it when encryption is off). The sync script only ever names these remotes.
#
# POSIX sh, not bash: the same script runs on the hub and in the stock rclone/alpine image (busybox).
#
# Usage: write-config.sh <destination file>
# Non-secret settings come from the environment (OFFSITE_*; see below). Secrets come on stdin, one per
# line, in this order: FTP password, encryption key (an empty line when encryption is off), hub S3
# access key id, hub S3 secret access key. They never appear on a command line; passwords are stored
# in rclone's obscured form (`rclone obscure -`, fed through a pipe from a shell builtin).
# The file is written root-only (0600) and atomically (temp file + mv).
set -eu

dest=${1:?usage: write-config.sh <destination file>}
RCLONE=${RCLONE:-rclone}
: "${OFFSITE_FTP_HOST:?}" "${OFFSITE_FTP_PORT:?}" "${OFFSITE_FTP_USER:?}" "${OFFSITE_FTP_PATH:?}"
: "${OFFSITE_FTP_EXPLICIT_TLS:?}" "${OFFSITE_ENCRYPTION:?}" "${OFFSITE_FILENAME_ENCRYPTION:?}"
: "${OFFSITE_S3_ENDPOINT:?}" "${OFFSITE_S3_REGION:?}" "${OFFSITE_S3_PROVIDER:?}" "${OFFSITE_S3_PATH_STYLE:?}"
disable_tls13=${OFFSITE_FTP_DISABLE_TLS13:-false}

IFS= read -r ftp_password || true
IFS= read -r crypt_key || true
IFS= read -r s3_key_id || true
IFS= read -r s3_secret || true
[ -n "$ftp_password" ] || { echo "write-config: no FTP password on stdin" >&2; exit 2; }
if [ -z "$s3_key_id" ] || [ -z "$s3_secret" ]; then
  echo "write-config: no hub S3 credentials on stdin" >&2
  exit 2
fi
if [ "$OFFSITE_ENCRYPTION" = true ] && [ -z "$crypt_key" ]; then
  echo "write-config: encryption is on but no encryption key on stdin" >&2
  exit 2
fi

obscure() { printf '%s' "$1" | "$RCLONE" obscure -; }

# The path on the FTP server without a leading slash is relative to the login directory; keep what
# the user wrote.
umask 077
dir=$(dirname "$dest")
mkdir -p "$dir"
tmp=$(mktemp "$dir/.rclone.conf.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
  printf '[hub]\ntype = s3\nprovider = %s\nendpoint = %s\nregion = %s\n' "$OFFSITE_S3_PROVIDER" "$OFFSITE_S3_ENDPOINT" "$OFFSITE_S3_REGION"
  printf 'access_key_id = %s\nsecret_access_key = %s\n' "$s3_key_id" "$s3_secret"
  # The reader may list and get only: never try to create the bucket.
  printf 'force_path_style = %s\nno_check_bucket = true\n\n' "$OFFSITE_S3_PATH_STYLE"
  printf '[ftp]\ntype = ftp\nhost = %s\nport = %s\nuser = %s\npass = %s\n' "$OFFSITE_FTP_HOST" "$OFFSITE_FTP_PORT" "$OFFSITE_FTP_USER" "$(obscure "$ftp_password")"
  printf 'explicit_tls = %s\ndisable_tls13 = %s\n\n' "$OFFSITE_FTP_EXPLICIT_TLS" "$disable_tls13"
  printf '[offsite_raw]\ntype = alias\nremote = ftp:%s\n\n' "$OFFSITE_FTP_PATH"
  if [ "$OFFSITE_ENCRYPTION" = true ]; then
    key=$(obscure "$crypt_key")
    # One key for data and salt: restoring needs that key and the FTP login, nothing else.
    printf '[offsite]\ntype = crypt\nremote = offsite_raw:\nfilename_encryption = %s\ndirectory_name_encryption = true\npassword = %s\npassword2 = %s\n' \
      "$OFFSITE_FILENAME_ENCRYPTION" "$key" "$key"
  else
    printf '[offsite]\ntype = alias\nremote = offsite_raw:\n'
  fi
} >"$tmp"
chmod 0600 "$tmp"
mv -f "$tmp" "$dest"
trap - EXIT
