#!/bin/sh
# Downloads and decrypts the off-site copy with nothing but the encryption key and the FTP login
# (download and decrypt with only the key and the FTP login). The rclone config lives in environment variables only:
# no file, nothing left behind. Run it from a checkout of the repository: it sources
# components/core/rclone-remotes.sh.
#
# Usage:  restore-offsite.sh <destination directory> [path inside the copy, e.g. postgres-backups/wiki]
#         restore-offsite.sh hub:<bucket> [path]   (a new hub: the rclone remote `hub`, defined by the
#                                                    caller's RCLONE_CONFIG_HUB_* variables)
#         restore-offsite.sh --list [path]
# Environment: OFFSITE_FTP_HOST, OFFSITE_FTP_USER, OFFSITE_FTP_PASSWORD, OFFSITE_ENCRYPTION_KEY,
#   OFFSITE_FTP_PORT (21), OFFSITE_FTP_PATH (/), OFFSITE_FTP_EXPLICIT_TLS (true),
#   OFFSITE_FILENAME_ENCRYPTION (standard), OFFSITE_ENCRYPTION (true),
#   OFFSITE_FTP_DISABLE_TLS13 (false), OFFSITE_RCLONE_FLAGS (extra flags), RCLONE (rclone).
# Fails (non-zero) on a wrong key: the key-check file the sync wrote must decrypt, and every file
# of the copy must arrive with its size (crypt authenticates every block it decrypts).
set -eu

RCLONE=${RCLONE:-rclone}
extra=${OFFSITE_RCLONE_FLAGS:-}
KEYCHECK=homelab-backup-keycheck
KEYCHECK_TEXT="homelab-backup off-site key check"
# The run record offsite-sync.sh leaves beside the key-check file: no backup, never copied back.
RECORD=homelab-backup-offsite.json
list=false
if [ "${1:-}" = --list ]; then
  list=true
  shift
fi
if [ "$list" = false ]; then
  dest=${1:?usage: restore-offsite.sh <destination directory> [path] | --list [path]}
  shift
fi
sub=${1:-}
: "${OFFSITE_FTP_HOST:?}" "${OFFSITE_FTP_USER:?}" "${OFFSITE_FTP_PASSWORD:?}"
encryption=${OFFSITE_ENCRYPTION:-true}
if [ "$encryption" = true ]; then : "${OFFSITE_ENCRYPTION_KEY:?the off-site encryption key (pulumi stack output offsiteEncryptionKey --show-secrets)}"; fi

# The remotes are defined in components/core/rclone-remotes.sh, ../core/ from this script.
# shellcheck source-path=SCRIPTDIR source=../core/rclone-remotes.sh
. "$(dirname "$0")/../core/rclone-remotes.sh"
rclone_offsite_remotes

# An empty config path keeps rclone's config in memory: the remotes above are all it needs.
# shellcheck disable=SC2086 # $extra is a list of flags, split on purpose
rc() { "$RCLONE" --config "" $extra "$@"; }

if [ "$encryption" = true ]; then
  if ! rc lsf --max-depth 1 offsite_raw: | grep -qx "$KEYCHECK.bin"; then
    echo "restore-offsite: no key-check file in the off-site copy; cannot prove the key, refusing" >&2
    exit 1
  fi
  got=$(rc cat "offsite,filename_encryption=off:$KEYCHECK" 2>/dev/null) || got=
  if [ "$got" != "$KEYCHECK_TEXT" ]; then
    echo "restore-offsite: WRONG ENCRYPTION KEY: the off-site copy's key-check file does not decrypt with this key" >&2
    exit 1
  fi
fi

if [ "$list" = true ]; then
  rc lsf -R --files-only --exclude "/$KEYCHECK" --exclude "/$RECORD" "offsite:$sub"
  exit 0
fi
case "$dest" in
  # The new hub's bucket: a path inside the copy goes back under the same path of the bucket.
  hub:*) dest="${dest%/}${sub:+/$sub}" ;;
  *) mkdir -p "$dest" ;;
esac
rc copy "offsite:$sub" "$dest" --exclude "/$KEYCHECK" --exclude "/$RECORD" --size-only -v
# Every file of the copy must now be in the destination with its size.
rc check "offsite:$sub" "$dest" --exclude "/$KEYCHECK" --exclude "/$RECORD" --one-way --size-only
echo "restore-offsite: restored offsite:${sub:-/} into $dest" >&2
