#!/bin/sh
# etcd restore drill: proves the newest offloaded etcd snapshot comes back.
#   1. find the newest snapshot record (<file>.json, written last by offload.sh) under
#      etcd-snapshots/<node>/ on the hub (staging under .partial/ is ignored);
#   2. download the snapshot, check its size and sha256 against the record;
#   3. restore it into an empty directory with the etcd tools (etcdutl, or etcdctl on etcd 3.4;
#      both verify the hash etcd appends to a snapshot), start a throw-away etcd on loopback on the
#      restored data and count the keys under DRILL_KEY_PREFIX (at least DRILL_MIN_KEYS);
#   4. stop that etcd and remove everything, on success and on failure alike (trap).
# Exits 0 when the snapshot restored and held keys, 1 on any failure, 2 on a usage error.
# The restore time it logs is the script's own; the RTO the alerts and dashboard use is the Job's
# duration as kube-state-metrics reports it (components/drills/alerts.ts). When it ends, passed or not,
# it leaves its result and restore time at status/drills/etcd/<item>.json (drill-record.sh).
#
# POSIX sh on purpose: in the cluster it runs under a static busybox inside the pinned etcd image.
# Environment: HUB_BUCKET (required), HUB_REMOTE (hub: RCLONE_CONFIG_HUB_* in the environment, read-only
# credentials), HUB_PREFIX (etcd-snapshots), DRILL_KEY_PREFIX ("" = every key), DRILL_MIN_KEYS (1),
# DRILL_DIR (a fresh temp dir), DRILL_START_SECONDS (60: how long the restored etcd may take to
# answer), RCLONE (rclone), ETCDCTL (etcdctl), ETCDUTL (etcdutl, if present), ETCD (etcd).
set -eu
# shellcheck disable=SC3040
if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi

: "${HUB_BUCKET:?HUB_BUCKET is required}"
HUB_REMOTE="${HUB_REMOTE:-hub}"
HUB_PREFIX="${HUB_PREFIX:-etcd-snapshots}"
DRILL_KEY_PREFIX="${DRILL_KEY_PREFIX:-}"
DRILL_MIN_KEYS="${DRILL_MIN_KEYS:-1}"
DRILL_START_SECONDS="${DRILL_START_SECONDS:-60}"
RCLONE="${RCLONE:-rclone}"
ETCDCTL="${ETCDCTL:-etcdctl}"
ETCDUTL="${ETCDUTL:-etcdutl}"
ETCD="${ETCD:-etcd}"
export TZ=UTC

log() { printf '%s etcd-drill: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
# shellcheck source-path=SCRIPTDIR source=drill-record.sh
. "$(dirname "$0")/drill-record.sh"
drill_record_begin
fail() {
  log "FAILED: $*"
  drill_record_failed "$*"
  exit 1
}
rc() { "$RCLONE" --config "" --retries 3 --low-level-retries 5 "$@"; }

work="$(mktemp -d "${DRILL_DIR:-${TMPDIR:-/tmp}}/etcd-drill.XXXXXX")"
etcd_pid=""
cleanup() {
  status=$?
  if [ -n "$etcd_pid" ]; then
    kill "$etcd_pid" 2>/dev/null || true
    wait "$etcd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  log "cleaned up (exit $status)"
  drill_record_write "$status"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

base="${HUB_REMOTE}:${HUB_BUCKET}/${HUB_PREFIX}"
started="$(date +%s)"

# 1. The newest record. Records are written last, after the snapshot is in place, so a record means
# a complete upload; "newest" is the record's modification time on the hub.
if ! rc lsf -R --files-only --format tp --separator ';' --filter '- /.partial/**' --filter '+ *.json' --filter '- *' "$base/" > "$work/records" 2> "$work/lsf.err"; then
  cat "$work/lsf.err" >&2
  fail "cannot list $base/"
fi
newest="$(sort -r "$work/records" | head -n 1 | cut -d';' -f2)"
[ -n "$newest" ] || fail "no snapshot record under $base/: has the offload job ever succeeded?"
rc cat "$base/$newest" > "$work/record.json" || fail "cannot read record $newest"
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\)\"\{0,1\}[,}].*/\1/p" "$work/record.json" | head -n 1; }
file="$(field file)"
size="$(field size)"
sha="$(field sha256)"
case "$sha" in *[!0-9a-f]* | "") fail "record $newest has no sha256" ;; esac
[ "${#sha}" -eq 64 ] || fail "record $newest has a malformed sha256"
dir="${newest%/*}"
[ "$dir" != "$newest" ] || dir=""
snapshot_key="${dir:+$dir/}$file"
drill_record_restored="${HUB_PREFIX}/$snapshot_key"
log "newest snapshot: $snapshot_key ($size bytes, taken on node ${dir:-?})"

# 2. Download and check against the record.
snap="$work/snapshot"
rc copyto "$base/$snapshot_key" "$snap" || fail "cannot download $snapshot_key"
got_size="$(wc -c < "$snap" | tr -d ' ')"
[ "$got_size" = "$size" ] || fail "$snapshot_key is $got_size bytes, its record says $size"
got_sha="$(sha256sum "$snap" | cut -d' ' -f1)"
[ "$got_sha" = "$sha" ] || fail "$snapshot_key sha256 $got_sha does not match its record ($sha)"
log "size and sha256 match the record"
case "$file" in
  *.zip)
    # k3s compressed snapshots: one file inside the archive.
    mkdir "$work/unzip"
    unzip -q "$snap" -d "$work/unzip" || fail "cannot unzip $file"
    inner="$(find "$work/unzip" -type f | head -n 1)"
    [ -n "$inner" ] || fail "$file holds no file"
    mv "$inner" "$snap"
    ;;
esac

# 3. Restore into an empty directory, serve it on loopback, count keys.
data="$work/restored"
peer="http://127.0.0.1:${DRILL_PEER_PORT:-12380}"
client="http://127.0.0.1:${DRILL_CLIENT_PORT:-12379}"
if command -v "$ETCDUTL" > /dev/null 2>&1; then
  restore_tool="$ETCDUTL"
else
  restore_tool="$ETCDCTL"
fi
if ! ETCDCTL_API=3 "$restore_tool" snapshot restore "$snap" --data-dir "$data" --name drill \
  --initial-cluster "drill=$peer" --initial-advertise-peer-urls "$peer" > "$work/restore.log" 2>&1; then
  cat "$work/restore.log" >&2
  fail "$restore_tool snapshot restore refused $snapshot_key"
fi
restored="$(date +%s)"
log "restored with $restore_tool in $((restored - started))s"
"$ETCD" --name drill --data-dir "$data" --listen-client-urls "$client" --advertise-client-urls "$client" \
  --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "drill=$peer" \
  --log-outputs stderr > "$work/etcd.log" 2>&1 &
etcd_pid=$!
waited=0
until ETCDCTL_API=3 "$ETCDCTL" --endpoints "$client" --command-timeout 2s endpoint health > /dev/null 2>&1; do
  if ! kill -0 "$etcd_pid" 2>/dev/null; then
    tail -n 20 "$work/etcd.log" >&2
    etcd_pid=""
    fail "the restored etcd exited"
  fi
  [ "$waited" -lt "$DRILL_START_SECONDS" ] || fail "the restored etcd did not answer within ${DRILL_START_SECONDS}s"
  sleep 1
  waited=$((waited + 1))
done
# The range response's count is every key in the range, whatever --limit returns (etcd
# api/etcdserverpb/rpc.proto, RangeResponse.count); --count-only needs etcdctl 3.5.
count="$(ETCDCTL_API=3 "$ETCDCTL" --endpoints "$client" get "$DRILL_KEY_PREFIX" --prefix --keys-only --limit 1 -w json 2> "$work/get.err" |
  sed -n 's/.*"count":\([0-9]*\).*/\1/p')" || true
[ -n "$count" ] || { cat "$work/get.err" >&2; fail "could not count keys in the restored etcd"; }
[ "$count" -ge "$DRILL_MIN_KEYS" ] || fail "the restored etcd holds $count keys under '${DRILL_KEY_PREFIX}', fewer than $DRILL_MIN_KEYS"
finished="$(date +%s)"
log "passed: $snapshot_key restored and holds $count keys under '${DRILL_KEY_PREFIX}' (restore and check $((finished - started))s)"
