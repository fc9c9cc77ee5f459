#!/bin/sh
# Mirrors one object-store bucket (e.g. a Rook/Ceph RGW bucket) into buckets/<name>/ of the hub with
# `rclone sync`, then verifies the mirror: every source object must be on the hub with its size
# (`rclone check --one-way`) and the object counts must be equal. Exits non-zero on any mismatch.
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
# The buckets writer may write only under buckets/: it must never try to create the bucket.
RCLONE_CONFIG_HUB_NO_CHECK_BUCKET=true
export RCLONE_CONFIG_SRC_TYPE RCLONE_CONFIG_SRC_PROVIDER RCLONE_CONFIG_SRC_ENDPOINT RCLONE_CONFIG_SRC_REGION \
  RCLONE_CONFIG_SRC_ACCESS_KEY_ID RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY RCLONE_CONFIG_SRC_FORCE_PATH_STYLE \
  RCLONE_CONFIG_HUB_TYPE RCLONE_CONFIG_HUB_PROVIDER RCLONE_CONFIG_HUB_ENDPOINT RCLONE_CONFIG_HUB_REGION \
  RCLONE_CONFIG_HUB_ACCESS_KEY_ID RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY RCLONE_CONFIG_HUB_FORCE_PATH_STYLE \
  RCLONE_CONFIG_HUB_NO_CHECK_BUCKET
# The remotes carry the credentials now; the generic AWS_* names would only confuse rclone's env_auth.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY HUB_ACCESS_KEY_ID HUB_SECRET_ACCESS_KEY

src="src:$MIRROR_SOURCE_BUCKET"
dst="hub:$MIRROR_HUB_BUCKET/$prefix"

# An empty config path keeps rclone's config in memory (read-only root filesystem in the pod).
# shellcheck disable=SC2086 # $extra is a list of flags, split on purpose
rc() { "$RCLONE" --config "" $extra "$@"; }

count() { rc size --json "$1" | sed -n 's/.*"count":\([0-9]*\).*/\1/p'; }

# --fast-list: one recursive S3 listing per side instead of a request per directory (fewer requests;
# also what the S3 peer of the tests answers completely).
rc sync "$src" "$dst" --fast-list --stats-one-line -v
rc check "$src" "$dst" --fast-list --one-way --size-only
n_src=$(count "$src")
n_dst=$(count "$dst")
if [ -z "$n_src" ] || [ "$n_src" != "$n_dst" ]; then
  echo "mirror: object count mismatch: source $src has ${n_src:-?}, hub $dst has ${n_dst:-?}" >&2
  exit 1
fi
echo "mirror: $src → $dst verified, $n_src objects" >&2
