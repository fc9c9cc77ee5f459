# shellcheck shell=sh
# The rclone remotes the job scripts name, defined once. Sourced, never run, by
#   components/offsite/restore-offsite.sh and components/drills/offsite-drill.sh: rclone_offsite_remotes
#     (remotes ftp, offsite_raw and offsite: the off-site copy, read with only the FTP login and the key);
#   components/mirror/mirror.sh and components/drills/buckets-drill.sh: rclone_mirror_remotes
#     (remotes src and hub: a mirrored bucket and the hub bucket that holds its copy);
#   components/alerts/audit-entry.sh: rclone_hub_remote and rclone_offsite_remotes (the audit's reader);
#   components/offsite/write-config.sh: rclone_print_hub_remote and rclone_print_offsite_remotes (the
#     off-site copy's config file, which the hub's systemd timer reads long after `pulumi up` is gone).
# Each script sources it by a path relative to its own directory, "$(dirname "$0")/../core/", in a
# checkout as in the pods and on the hub: their scripts keep the layout of components/ (scriptTree in
# components/core/files.ts; the staging directories of components/offsite/offsiteHubTimer.ts).
#
# A remote is defined once, as calls `<form> <remote> <option> <value>`, and comes in two forms:
#   rclone_env_option, the environment form (RCLONE_CONFIG_<REMOTE>_<OPTION>, rclone's own): no config
#     file, nothing left behind; the scripts run rclone with an empty --config. rclone_offsite_remotes,
#     rclone_mirror_remotes and rclone_hub_remote export the remotes this way.
#   rclone_print_option, the config-file form (`option = value` under `[remote]`), printed to stdout by
#     rclone_print_offsite_remotes and rclone_print_hub_remote for a file the caller writes.
# rclone reads both alike: test/core/rcloneRemotes.test.ts compares them.
# Each function reads its settings from the environment or its arguments, as documented below; a
# required setting that is unset or empty stops the script (${name:?}) before any remote is defined.
#
# POSIX sh: BusyBox ash in the Alpine job images, dash or bash on a workstation and on the hub.

# rclone's obscured form of a secret, fed through a pipe from a shell builtin (never a command line).
rclone_obscure() { printf '%s' "$1" | "${RCLONE:-rclone}" obscure -; }

# The environment form of one option: exports RCLONE_CONFIG_<REMOTE>_<OPTION>, both upper case (the
# variable rclone reads for option <option> of remote <remote>).
rclone_env_option() {
  _rclone_var=$(printf 'RCLONE_CONFIG_%s_%s' "$1" "$2" | tr '[:lower:]' '[:upper:]')
  export "$_rclone_var=$3"
  unset _rclone_var
}

# The config-file form of one option: `<option> = <value>`, after a `[<remote>]` header when the remote
# is not the one of the previous line (a blank line between two remotes). The print functions start
# each set of remotes afresh (_rclone_section=).
rclone_print_option() {
  if [ "$1" != "${_rclone_section-}" ]; then
    [ -z "${_rclone_section-}" ] || echo
    printf '[%s]\n' "$1"
    _rclone_section=$1
  fi
  printf '%s = %s\n' "$2" "$3"
}

# Remotes ftp (the FTP(S) server), offsite_raw (ftp:<path>, what the server stores) and offsite (rclone
# crypt over offsite_raw:, or a plain alias of it when encryption is off), in form $1.
# Reads OFFSITE_FTP_HOST, OFFSITE_FTP_USER, OFFSITE_FTP_PASSWORD, OFFSITE_FTP_PORT (21),
# OFFSITE_FTP_PATH (/; without a leading slash it is relative to the login directory, kept as written),
# OFFSITE_FTP_EXPLICIT_TLS (true), OFFSITE_FTP_DISABLE_TLS13 (false), OFFSITE_ENCRYPTION (true), and
# with encryption OFFSITE_ENCRYPTION_KEY and OFFSITE_FILENAME_ENCRYPTION (standard).
rclone_offsite_in() {
  : "${OFFSITE_FTP_HOST:?}" "${OFFSITE_FTP_USER:?}" "${OFFSITE_FTP_PASSWORD:?}"
  [ "${OFFSITE_ENCRYPTION:-true}" != true ] || : "${OFFSITE_ENCRYPTION_KEY:?}"
  # Obscured before any option is defined, outside a command's arguments: a failing rclone stops the
  # script (set -e) instead of defining an empty password.
  _rclone_pass=$(rclone_obscure "$OFFSITE_FTP_PASSWORD")
  "$1" ftp type ftp
  "$1" ftp host "$OFFSITE_FTP_HOST"
  "$1" ftp port "${OFFSITE_FTP_PORT:-21}"
  "$1" ftp user "$OFFSITE_FTP_USER"
  "$1" ftp pass "$_rclone_pass"
  "$1" ftp explicit_tls "${OFFSITE_FTP_EXPLICIT_TLS:-true}"
  "$1" ftp disable_tls13 "${OFFSITE_FTP_DISABLE_TLS13:-false}"
  "$1" offsite_raw type alias
  "$1" offsite_raw remote "ftp:${OFFSITE_FTP_PATH:-/}"
  if [ "${OFFSITE_ENCRYPTION:-true}" = true ]; then
    _rclone_pass=$(rclone_obscure "$OFFSITE_ENCRYPTION_KEY")
    "$1" offsite type crypt
    "$1" offsite remote offsite_raw:
    "$1" offsite filename_encryption "${OFFSITE_FILENAME_ENCRYPTION:-standard}"
    "$1" offsite directory_name_encryption true
    # One key for data and salt: restoring needs that key and the FTP login, nothing else.
    "$1" offsite password "$_rclone_pass"
    "$1" offsite password2 "$_rclone_pass"
  else
    "$1" offsite type alias
    "$1" offsite remote offsite_raw:
  fi
  unset _rclone_pass
}

# Remote hub (the hub bucket's S3 API), in form $1, from the arguments: $2 rclone's S3 provider, $3
# endpoint, $4 region, $5 path-style addressing (true|false), $6 access key id, $7 secret access key.
rclone_hub_in() {
  : "${2:?hub provider}" "${3:?hub endpoint}" "${4:?hub region}" "${5:?hub path style}" "${6:?hub access key id}" "${7:?hub secret access key}"
  "$1" hub type s3
  "$1" hub provider "$2"
  "$1" hub endpoint "$3"
  "$1" hub region "$4"
  "$1" hub access_key_id "$6"
  "$1" hub secret_access_key "$7"
  "$1" hub force_path_style "$5"
  # Every key of the hub (the writers under their prefixes, the readers) may write at most objects:
  # never try to create the bucket.
  "$1" hub no_check_bucket true
}

# Exports remotes ftp, offsite_raw and offsite (rclone_offsite_in), then unsets OFFSITE_FTP_PASSWORD and
# OFFSITE_ENCRYPTION_KEY.
rclone_offsite_remotes() {
  rclone_offsite_in rclone_env_option
  unset OFFSITE_FTP_PASSWORD OFFSITE_ENCRYPTION_KEY
}

# Prints remotes ftp, offsite_raw and offsite (rclone_offsite_in) as config-file sections.
rclone_print_offsite_remotes() {
  _rclone_section=
  rclone_offsite_in rclone_print_option
}

# Exports remote hub (rclone_hub_in) from the six arguments of rclone_hub_in.
rclone_hub_remote() { rclone_hub_in rclone_env_option "$@"; }

# Prints remote hub (rclone_hub_in) as a config-file section, from the six arguments of rclone_hub_in.
rclone_print_hub_remote() {
  _rclone_section=
  rclone_hub_in rclone_print_option "$@"
}

# Exports remotes src (the source bucket's S3 API, e.g. a Rook/Ceph RGW) and hub (the hub bucket; the
# copy is under buckets/<name>/ of it).
# Reads MIRROR_SOURCE_ENDPOINT, MIRROR_SOURCE_REGION (us-east-1), AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY (the names Rook's ObjectBucketClaim Secrets use), MIRROR_HUB_PROVIDER,
# MIRROR_HUB_ENDPOINT, MIRROR_HUB_REGION, MIRROR_HUB_PATH_STYLE, HUB_ACCESS_KEY_ID and
# HUB_SECRET_ACCESS_KEY. Unsets the four credential variables.
rclone_mirror_remotes() {
  : "${MIRROR_SOURCE_ENDPOINT:?}" "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"
  : "${MIRROR_HUB_PROVIDER:?}" "${MIRROR_HUB_ENDPOINT:?}" "${MIRROR_HUB_REGION:?}" "${MIRROR_HUB_PATH_STYLE:?}"
  : "${HUB_ACCESS_KEY_ID:?}" "${HUB_SECRET_ACCESS_KEY:?}"
  rclone_env_option src type s3
  rclone_env_option src provider Other
  rclone_env_option src endpoint "$MIRROR_SOURCE_ENDPOINT"
  rclone_env_option src region "${MIRROR_SOURCE_REGION:-us-east-1}"
  rclone_env_option src access_key_id "$AWS_ACCESS_KEY_ID"
  rclone_env_option src secret_access_key "$AWS_SECRET_ACCESS_KEY"
  rclone_env_option src force_path_style true
  rclone_hub_remote "$MIRROR_HUB_PROVIDER" "$MIRROR_HUB_ENDPOINT" "$MIRROR_HUB_REGION" "$MIRROR_HUB_PATH_STYLE" \
    "$HUB_ACCESS_KEY_ID" "$HUB_SECRET_ACCESS_KEY"
  # The remotes carry the credentials now; the generic AWS_* names would only confuse rclone's env_auth.
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY HUB_ACCESS_KEY_ID HUB_SECRET_ACCESS_KEY
}
