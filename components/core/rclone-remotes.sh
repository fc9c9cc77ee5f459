# shellcheck shell=sh
# The rclone remotes the job scripts name, defined once. Sourced, never run, by
#   components/offsite/restore-offsite.sh and components/drills/offsite-drill.sh: rclone_offsite_remotes
#     (remotes ftp, offsite_raw and offsite: the off-site copy, read with only the FTP login and the key);
#   components/mirror/mirror.sh and components/drills/buckets-drill.sh: rclone_mirror_remotes
#     (remotes src and hub: a mirrored bucket and the hub bucket that holds its copy).
# Each script sources it by a path relative to its own directory, "$(dirname "$0")/../core/", in a
# checkout as in the pods: their scripts volume keeps the layout of components/ (scriptTree in
# components/core/files.ts).
#
# The remotes are environment variables only (RCLONE_CONFIG_<NAME>_<OPTION>, rclone's own form): no
# config file, nothing left behind; the scripts run rclone with an empty --config. Each function reads
# the settings the scripts document from the environment, exports the remotes, and unsets the secrets
# it copied into them. A required setting that is unset stops the script (${name:?}).
#
# POSIX sh: BusyBox ash in the Alpine job images, dash or bash on a workstation.

# rclone's obscured form of a secret, fed through a pipe from a shell builtin (never a command line).
rclone_obscure() { printf '%s' "$1" | "${RCLONE:-rclone}" obscure -; }

# Remotes ftp (the FTP(S) server), offsite_raw (ftp:<path>, what the server stores) and offsite (rclone
# crypt over offsite_raw:, or a plain alias of it when encryption is off): the remotes that
# components/offsite/write-config.sh writes to a file for the sync.
# Reads OFFSITE_FTP_HOST, OFFSITE_FTP_USER, OFFSITE_FTP_PASSWORD, OFFSITE_FTP_PORT (21),
# OFFSITE_FTP_PATH (/), OFFSITE_FTP_EXPLICIT_TLS (true), OFFSITE_FTP_DISABLE_TLS13 (false),
# OFFSITE_ENCRYPTION (true), and with encryption OFFSITE_ENCRYPTION_KEY and OFFSITE_FILENAME_ENCRYPTION
# (standard). Unsets OFFSITE_FTP_PASSWORD and OFFSITE_ENCRYPTION_KEY.
rclone_offsite_remotes() {
  : "${OFFSITE_FTP_HOST:?}" "${OFFSITE_FTP_USER:?}" "${OFFSITE_FTP_PASSWORD:?}"
  RCLONE_CONFIG_FTP_TYPE=ftp
  RCLONE_CONFIG_FTP_HOST=$OFFSITE_FTP_HOST
  RCLONE_CONFIG_FTP_PORT=${OFFSITE_FTP_PORT:-21}
  RCLONE_CONFIG_FTP_USER=$OFFSITE_FTP_USER
  RCLONE_CONFIG_FTP_PASS=$(rclone_obscure "$OFFSITE_FTP_PASSWORD")
  RCLONE_CONFIG_FTP_EXPLICIT_TLS=${OFFSITE_FTP_EXPLICIT_TLS:-true}
  RCLONE_CONFIG_FTP_DISABLE_TLS13=${OFFSITE_FTP_DISABLE_TLS13:-false}
  RCLONE_CONFIG_OFFSITE_RAW_TYPE="alias"
  RCLONE_CONFIG_OFFSITE_RAW_REMOTE=ftp:${OFFSITE_FTP_PATH:-/}
  export RCLONE_CONFIG_FTP_TYPE RCLONE_CONFIG_FTP_HOST RCLONE_CONFIG_FTP_PORT RCLONE_CONFIG_FTP_USER RCLONE_CONFIG_FTP_PASS \
    RCLONE_CONFIG_FTP_EXPLICIT_TLS RCLONE_CONFIG_FTP_DISABLE_TLS13 RCLONE_CONFIG_OFFSITE_RAW_TYPE RCLONE_CONFIG_OFFSITE_RAW_REMOTE
  if [ "${OFFSITE_ENCRYPTION:-true}" = true ]; then
    : "${OFFSITE_ENCRYPTION_KEY:?}"
    RCLONE_CONFIG_OFFSITE_TYPE=crypt
    RCLONE_CONFIG_OFFSITE_REMOTE=offsite_raw:
    RCLONE_CONFIG_OFFSITE_FILENAME_ENCRYPTION=${OFFSITE_FILENAME_ENCRYPTION:-standard}
    RCLONE_CONFIG_OFFSITE_DIRECTORY_NAME_ENCRYPTION=true
    # One key for data and salt: restoring needs that key and the FTP login, nothing else.
    RCLONE_CONFIG_OFFSITE_PASSWORD=$(rclone_obscure "$OFFSITE_ENCRYPTION_KEY")
    RCLONE_CONFIG_OFFSITE_PASSWORD2=$RCLONE_CONFIG_OFFSITE_PASSWORD
    export RCLONE_CONFIG_OFFSITE_FILENAME_ENCRYPTION RCLONE_CONFIG_OFFSITE_DIRECTORY_NAME_ENCRYPTION \
      RCLONE_CONFIG_OFFSITE_PASSWORD RCLONE_CONFIG_OFFSITE_PASSWORD2
  else
    RCLONE_CONFIG_OFFSITE_TYPE="alias"
    RCLONE_CONFIG_OFFSITE_REMOTE=offsite_raw:
  fi
  export RCLONE_CONFIG_OFFSITE_TYPE RCLONE_CONFIG_OFFSITE_REMOTE
  unset OFFSITE_FTP_PASSWORD OFFSITE_ENCRYPTION_KEY
}

# Remotes src (the source bucket's S3 API, e.g. a Rook/Ceph RGW) and hub (the hub bucket; the copy is
# under buckets/<name>/ of it).
# Reads MIRROR_SOURCE_ENDPOINT, MIRROR_SOURCE_REGION (us-east-1), AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY (the names Rook's ObjectBucketClaim Secrets use), MIRROR_HUB_PROVIDER,
# MIRROR_HUB_ENDPOINT, MIRROR_HUB_REGION, MIRROR_HUB_PATH_STYLE, HUB_ACCESS_KEY_ID and
# HUB_SECRET_ACCESS_KEY. Unsets the four credential variables.
rclone_mirror_remotes() {
  RCLONE_CONFIG_SRC_TYPE=s3
  RCLONE_CONFIG_SRC_PROVIDER=Other
  RCLONE_CONFIG_SRC_ENDPOINT=${MIRROR_SOURCE_ENDPOINT:?}
  RCLONE_CONFIG_SRC_REGION=${MIRROR_SOURCE_REGION:-us-east-1}
  RCLONE_CONFIG_SRC_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:?}
  RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:?}
  RCLONE_CONFIG_SRC_FORCE_PATH_STYLE=true
  RCLONE_CONFIG_HUB_TYPE=s3
  RCLONE_CONFIG_HUB_PROVIDER=${MIRROR_HUB_PROVIDER:?}
  RCLONE_CONFIG_HUB_ENDPOINT=${MIRROR_HUB_ENDPOINT:?}
  RCLONE_CONFIG_HUB_REGION=${MIRROR_HUB_REGION:?}
  RCLONE_CONFIG_HUB_ACCESS_KEY_ID=${HUB_ACCESS_KEY_ID:?}
  RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY=${HUB_SECRET_ACCESS_KEY:?}
  RCLONE_CONFIG_HUB_FORCE_PATH_STYLE=${MIRROR_HUB_PATH_STYLE:?}
  # The buckets writer may write only under buckets/ (and the drill's reader not at all): never try to
  # create the bucket.
  RCLONE_CONFIG_HUB_NO_CHECK_BUCKET=true
  export RCLONE_CONFIG_SRC_TYPE RCLONE_CONFIG_SRC_PROVIDER RCLONE_CONFIG_SRC_ENDPOINT RCLONE_CONFIG_SRC_REGION \
    RCLONE_CONFIG_SRC_ACCESS_KEY_ID RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY RCLONE_CONFIG_SRC_FORCE_PATH_STYLE \
    RCLONE_CONFIG_HUB_TYPE RCLONE_CONFIG_HUB_PROVIDER RCLONE_CONFIG_HUB_ENDPOINT RCLONE_CONFIG_HUB_REGION \
    RCLONE_CONFIG_HUB_ACCESS_KEY_ID RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY RCLONE_CONFIG_HUB_FORCE_PATH_STYLE \
    RCLONE_CONFIG_HUB_NO_CHECK_BUCKET
  # The remotes carry the credentials now; the generic AWS_* names would only confuse rclone's env_auth.
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY HUB_ACCESS_KEY_ID HUB_SECRET_ACCESS_KEY
}
