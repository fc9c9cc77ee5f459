#!/usr/bin/env bash
# Configures the hub's bucket with Silo's S3 client mcli (installed by install-server.sh, or by the
# NixOS module):
# bucket, versioning, object lock (MinIO, at bucket creation only), lifecycle expiry per prefix,
# and one user + policy per writer. Idempotent: every run converges to the same state.
#
# Input (environment): HUB_BUCKET, HUB_REGION, HUB_PORT, HUB_TLS (true | false), HUB_ADMIN_USER,
# HUB_VERSIONING (Enabled, the default | Suspended), HUB_ALLOW_PLAIN_HTTP (the stack's choice, for the
# policy pack; read by nothing here),
# HUB_OBJECT_LOCK ("MODE DAYS" or empty), HUB_LIFECYCLE (space-separated "prefix:expireDays:noncurrentDays",
# expireDays "-" for none), HUB_MCLI (the client's path; default mcli on PATH).
# Standard input, one record per line, every value base64-encoded:
#   admin <password>
#   writer <name> <access key> <secret key> <policy JSON>
# Secrets never appear on a command line: mcli gets the admin credentials through MC_HOST_hub (its
# environment, readable only by root) and each writer's secret key on its standard input.
set -euo pipefail

fail() {
  echo "configure failed: $1: $2" >&2
  exit 1
}

b64d() { base64 --decode <<<"$1"; }

# Percent-encodes a value for the userinfo part of MC_HOST_hub.
urlencode() {
  local s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [A-Za-z0-9._~-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}

mcli() {
  command "$MCLI_BIN" --config-dir "$MC_DIR" --quiet --no-color "${MC_TLS[@]}" "$@"
}

main() {
  local bucket="${HUB_BUCKET:?HUB_BUCKET is not set}" region="${HUB_REGION:?HUB_REGION is not set}"
  local port="${HUB_PORT:?HUB_PORT is not set}" tls="${HUB_TLS:-false}" admin_user="${HUB_ADMIN_USER:?HUB_ADMIN_USER is not set}"
  local object_lock="${HUB_OBJECT_LOCK:-}" lifecycle="${HUB_LIFECYCLE:-}" versioning="${HUB_VERSIONING:-Enabled}"
  local admin_password="" kind rest name access secret policy scheme=http
  local -a writers=()
  [[ "$(id -u)" -eq 0 ]] || fail "privileges" "configure-bucket.sh must run as root"
  # HUB_MCLI: where the client is (a NixOS hub's module puts it in the system profile).
  MCLI_BIN="${HUB_MCLI:-mcli}"
  command -v "$MCLI_BIN" >/dev/null 2>&1 || fail "client" "$MCLI_BIN (Silo's S3 client) is not installed; run install-server.sh first (Debian) or import the NixOS module and run nixos-rebuild switch (NixOS)"

  while read -r kind rest; do
    case "$kind" in
      admin) admin_password="$(b64d "$rest")" ;;
      writer) writers+=("$rest") ;;
      "") ;;
      *) fail "input" "unknown record '$kind' on standard input" ;;
    esac
  done
  [[ -n "$admin_password" ]] || fail "input" "no admin record on standard input"

  MC_DIR="$(mktemp -d)"
  trap 'rm -rf "$MC_DIR"' EXIT
  MC_TLS=()
  if [[ "$tls" == true ]]; then
    scheme=https
    # Loopback only: the certificate names the hub, not 127.0.0.1.
    MC_TLS=(--insecure)
  fi
  MC_HOST_hub="$scheme://$(urlencode "$admin_user"):$(urlencode "$admin_password")@127.0.0.1:$port"
  export MC_HOST_hub

  local target="hub/$bucket"
  if mcli stat "$target" >/dev/null 2>&1; then
    echo "bucket $bucket exists"
  elif [[ -n "$object_lock" ]]; then
    # Object lock can only be switched on when the bucket is created.
    mcli mb --region "$region" --with-lock "$target"
  else
    mcli mb --region "$region" "$target"
  fi
  case "$versioning" in
    Enabled) mcli version enable "$target" ;;
    Suspended) mcli version suspend "$target" ;;
    *) fail "versioning" "HUB_VERSIONING must be Enabled or Suspended, not '$versioning'" ;;
  esac

  if [[ -n "$object_lock" ]]; then
    local mode days
    read -r mode days <<<"$object_lock"
    mcli retention set --default "$mode" "${days}d" "$target" ||
      fail "objectLock" "cannot set default retention $mode ${days}d on $bucket; a bucket created without object lock cannot get it later (create a new bucket or remove hub.objectLock)"
  fi

  # Lifecycle: remove every rule, then add the wanted ones, so a removed prefix loses its rule.
  mcli ilm rule rm --all --force "$target" >/dev/null 2>&1 || true
  local rule prefix expire noncurrent
  for rule in $lifecycle; do
    IFS=: read -r prefix expire noncurrent <<<"$rule"
    local -a args=(--prefix "$prefix" --noncurrent-expire-days "$noncurrent")
    [[ "$expire" == "-" ]] || args+=(--expire-days "$expire")
    mcli ilm rule add "${args[@]}" "$target" >/dev/null
    echo "lifecycle $prefix expire=${expire} noncurrent=${noncurrent}d"
  done

  local record policy_name out
  for record in "${writers[@]}"; do
    read -r name access secret policy <<<"$record"
    access="$(b64d "$access")"
    policy_name="homelab-backup-$(b64d "$name")"
    b64d "$policy" | mcli admin policy create hub "$policy_name" /dev/stdin >/dev/null
    # mcli reads the secret key as one line from stdin when it is not given as an argument.
    { b64d "$secret" && echo; } | mcli admin user add hub "$access" >/dev/null
    if ! out="$(mcli admin policy attach hub "$policy_name" --user "$access" 2>&1)"; then
      [[ "$out" == *"already in effect"* ]] || fail "policy" "cannot attach $policy_name to $access: $out"
    fi
    echo "writer $access policy $policy_name"
  done
  echo "configure ok"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
