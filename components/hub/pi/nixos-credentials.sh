#!/usr/bin/env bash
# NixOS hub: puts the S3 server's credentials where the homelab-backup NixOS module reads them (the
# EnvironmentFile of services.minio / services.rustfs), then waits until the server answers. This is
# the only file `pulumi up` writes for the server on a NixOS hub: root-only 0600, in the module's
# own directory, outside the Nix store. The module restarts the server when the file changes.
#
# Input (environment): HUB_SERVER (silo | rustfs), HUB_PORT, HUB_TLS (true | false), HUB_ENV_FILE
# (absolute path), HUB_MODULE_FILE (the module's file name, for the message when the server is not
# running), HUB_WAIT_SECONDS (default 90). Standard input: the EnvironmentFile content.
set -euo pipefail

fail() {
  echo "nixos hub failed: $1: $2" >&2
  exit 1
}

main() {
  local server="${HUB_SERVER:?HUB_SERVER is not set}" port="${HUB_PORT:?HUB_PORT is not set}" tls="${HUB_TLS:-false}"
  local env_file="${HUB_ENV_FILE:?HUB_ENV_FILE is not set}" module="${HUB_MODULE_FILE:-homelab-backup-hub.nix}"
  local wait="${HUB_WAIT_SECONDS:-90}" dir tmp health_path unit scheme=http curl_tls=() i
  [[ "$(id -u)" -eq 0 ]] || fail "privileges" "nixos-credentials.sh must run as root"
  [[ "$env_file" == /* ]] || fail "credentials" "HUB_ENV_FILE must be an absolute path"
  case "$server" in
    silo) health_path=/minio/health/live unit=minio.service ;;
    rustfs) health_path=/health unit=rustfs.service ;;
    *) fail "server" "unknown server '$server' (silo or rustfs)" ;;
  esac

  dir="$(dirname "$env_file")"
  install -d -m 0711 -o root -g root "$dir"
  tmp="$(umask 077 && mktemp "$dir/.server.env.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -f '$tmp'" EXIT
  cat >"$tmp"
  grep -q . "$tmp" || fail "credentials" "no EnvironmentFile content on standard input"
  if [[ -f "$env_file" ]] && cmp -s "$tmp" "$env_file"; then
    echo "credentials unchanged"
  else
    chmod 0600 "$tmp"
    mv -f "$tmp" "$env_file"
    echo "credentials written to $env_file (0600)"
  fi

  if [[ "$tls" == true ]]; then scheme=https curl_tls=(--insecure); fi
  for ((i = 1; i <= wait; i++)); do
    if curl -fsS -o /dev/null "${curl_tls[@]}" "$scheme://127.0.0.1:$port$health_path" 2>/dev/null; then
      echo "server=$server healthy after ${i}s"
      return 0
    fi
    sleep 1
  done
  fail "server" "$unit does not answer on $scheme://127.0.0.1:$port$health_path. Import the rendered NixOS module ($module, from the render's files/) into the hub's configuration and run 'nixos-rebuild switch' there, then run 'pulumi up' again (the credentials are in place: the server starts with them)"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
