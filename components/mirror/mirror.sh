#!/bin/sh
# Mirrors one object-store bucket (e.g. a Rook/Ceph RGW bucket) into buckets/<name>/ of the hub with
# `rclone sync`, then verifies the mirror: every source object must be on the hub with its size
# (`rclone check --one-way`) and the object counts must be equal. Exits non-zero on any mismatch.
# A verified run leaves its record beside the mirror, outside what the sync owns (so the next sync
# never deletes it): buckets/.records/<name>.json = {format, name, source, prefix, finishedAt,
# objects, bytes, complete}. The audit and `npm run status` read it (components/alerts/hubReader.mjs
# readMirror) instead of listing the whole mirror; the buckets writer may write under buckets/
# (components/hub/iam.ts) and the audit reader may read buckets/.records/*.json.
#
# POSIX sh: runs in the stock alpine image with rclone from the init container (busybox).
# Environment:
#   source: MIRROR_SOURCE_ENDPOINT, MIRROR_SOURCE_BUCKET, MIRROR_SOURCE_REGION, and the credentials
#     under the names Rook's ObjectBucketClaim Secrets use: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
#   hub: MIRROR_HUB_ENDPOINT, MIRROR_HUB_BUCKET, MIRROR_HUB_REGION, MIRROR_HUB_PROVIDER,
#     MIRROR_HUB_PATH_STYLE, MIRROR_HUB_PREFIX (buckets/<name>/), HUB_ACCESS_KEY_ID, HUB_SECRET_ACCESS_KEY
#   MIRROR_RCLONE_FLAGS (optional extra flags), RCLONE (binary, default rclone)
set -eu

RCLONE=${RCLONE:-rclone}
extra=${MIRROR_RCLONE_FLAGS:-}
prefix=${MIRROR_HUB_PREFIX:?}
prefix=${prefix%/}

# The remotes are defined in components/core/rclone-remotes.sh: ../core/ from this script in a checkout,
# and in the pod, whose scripts volume keeps the layout of components/.
# shellcheck source-path=SCRIPTDIR source=../core/rclone-remotes.sh
. "$(dirname "$0")/../core/rclone-remotes.sh"
rclone_mirror_remotes

src="src:$MIRROR_SOURCE_BUCKET"
dst="hub:$MIRROR_HUB_BUCKET/$prefix"

# An empty config path keeps rclone's config in memory (read-only root filesystem in the pod).
# shellcheck disable=SC2086 # $extra is a list of flags, split on purpose
rc() { "$RCLONE" --config "" $extra "$@"; }

size_json() { rc size --json "$1"; }
field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }

# The record's key: <parent of the prefix>/.records/<last part of the prefix>.json
# (hubReader.mjs mirrorRecordKey computes the same).
case $prefix in
*/*) record="${prefix%/*}/.records/${prefix##*/}.json" ;;
*) record=".records/$prefix.json" ;;
esac

# --fast-list: one recursive S3 listing per side instead of a request per directory (fewer requests;
# also what the S3 peer of the tests answers completely).
rc sync "$src" "$dst" --fast-list --stats-one-line -v
rc check "$src" "$dst" --fast-list --one-way --size-only
s_src=$(size_json "$src")
s_dst=$(size_json "$dst")
n_src=$(field "$s_src" count)
n_dst=$(field "$s_dst" count)
bytes=$(field "$s_dst" bytes)
if [ -z "$n_src" ] || [ "$n_src" != "$n_dst" ]; then
  echo "mirror: object count mismatch: source $src has ${n_src:-?}, hub $dst has ${n_dst:-?}" >&2
  exit 1
fi
printf '{"format":"homelab-backup/mirror-run/v1","name":"%s","source":"%s","prefix":"%s/","finishedAt":"%s","objects":%s,"bytes":%s,"complete":true}\n' \
  "${prefix##*/}" "$MIRROR_SOURCE_BUCKET" "$prefix" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$n_dst" "${bytes:-0}" |
  rc rcat "hub:$MIRROR_HUB_BUCKET/$record"
echo "mirror: $src → $dst verified, $n_src objects, record $record" >&2
