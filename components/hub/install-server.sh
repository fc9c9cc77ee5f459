#!/usr/bin/env bash
# Installs the hub's S3 server (MinIO or RustFS, at the pinned release) and the MinIO client as a
# systemd service, and waits until the server answers. Idempotent: a binary whose checksum already
# matches the release is not downloaded again, an unchanged unit or credentials file is not
# rewritten, and the service is restarted only when one of them changed.
#
# Input (environment): HUB_SERVER (minio | rustfs), HUB_VERSION, HUB_MC_VERSION, HUB_DATA_DIR,
# HUB_PORT, HUB_TLS (true | false). Standard input: the content of the server's EnvironmentFile
# (admin credentials). It is written root-only (0600) and never passed on a command line.
# The unit file is read from this script's directory (<server>.service, uploaded beside it).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# hub_arch and fail come from the preflight, so both steps agree on architecture names.
# shellcheck source=preflight.sh
source "$here/preflight.sh"

BIN_DIR=/usr/local/bin

# Release artefacts of a server for an architecture: "<url> <checksum file url> <name in checksum file>".
release_artifact() {
  local what="$1" version="$2" arch="$3" url
  case "$what" in
    minio)
      url="https://dl.min.io/server/minio/release/linux-${arch}/archive/minio.${version}"
      echo "$url $url.sha256sum minio.${version}"
      ;;
    mc)
      url="https://dl.min.io/client/mc/release/linux-${arch}/archive/mc.${version}"
      echo "$url $url.sha256sum mc.${version}"
      ;;
    rustfs)
      local machine asset base
      case "$arch" in arm64) machine=aarch64 ;; amd64) machine=x86_64 ;; *) fail "architecture" "no RustFS build for '$arch'" ;; esac
      asset="rustfs-linux-${machine}-musl-v${version#v}.zip"
      base="https://github.com/rustfs/rustfs/releases/download/${version}"
      echo "$base/$asset $base/SHA256SUMS $asset"
      ;;
    *) fail "install" "unknown artefact '$what'" ;;
  esac
}

# The sha256 that a release's checksum file gives for one artefact name.
expected_sha256() {
  local sums_url="$1" name="$2" sums sha
  sums="$(curl -fsSL --retry 3 "$sums_url")" || fail "download" "cannot fetch the checksum file $sums_url"
  sha="$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1; exit }' <<<"$sums")"
  [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || fail "download" "no sha256 for $name in $sums_url"
  echo "$sha"
}

# Installs BIN_DIR/<target> from a release artefact unless the installed file already has the
# release's checksum. Prints "changed" when it installed something.
install_binary() {
  local what="$1" version="$2" arch="$3" target="$4" url sums_url name sha tmp actual
  read -r url sums_url name <<<"$(release_artifact "$what" "$version" "$arch")"
  sha="$(expected_sha256 "$sums_url" "$name")"
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -rf '$tmp'" RETURN
  if [[ "$name" == *.zip ]]; then
    # A zip's checksum is the archive's, so the unpacked binary is compared with a recorded copy.
    if [[ -f "$BIN_DIR/.$target.sha256" && "$(cat "$BIN_DIR/.$target.sha256")" == "$sha" && -x "$BIN_DIR/$target" ]]; then
      return 0
    fi
  elif [[ -x "$BIN_DIR/$target" ]] && [[ "$(sha256sum "$BIN_DIR/$target" | cut -d' ' -f1)" == "$sha" ]]; then
    return 0
  fi
  curl -fsSL --retry 3 -o "$tmp/$name" "$url" || fail "download" "cannot download $url"
  actual="$(sha256sum "$tmp/$name" | cut -d' ' -f1)"
  [[ "$actual" == "$sha" ]] || fail "download" "checksum mismatch for $name: expected $sha, got $actual; refusing to install it"
  if [[ "$name" == *.zip ]]; then
    if command -v unzip >/dev/null 2>&1; then
      unzip -q -o "$tmp/$name" -d "$tmp/unpacked"
    else
      python3 -m zipfile -e "$tmp/$name" "$tmp/unpacked"
    fi
    [[ -f "$tmp/unpacked/$target" ]] || fail "install" "$name does not contain '$target'"
    install -m 0755 -o root -g root "$tmp/unpacked/$target" "$BIN_DIR/$target"
    echo "$sha" >"$BIN_DIR/.$target.sha256"
  else
    install -m 0755 -o root -g root "$tmp/$name" "$BIN_DIR/$target"
  fi
  echo changed
}

# Installs <source> at <dest> with mode/owner unless identical. Prints "changed" when it wrote.
install_if_changed() {
  local src="$1" dest="$2" mode="$3"
  if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then return 0; fi
  install -m "$mode" -o root -g root "$src" "$dest"
  echo changed
}

main() {
  local server="${HUB_SERVER:?HUB_SERVER is not set}" version="${HUB_VERSION:?HUB_VERSION is not set}"
  local mc_version="${HUB_MC_VERSION:?HUB_MC_VERSION is not set}" data_dir="${HUB_DATA_DIR:?HUB_DATA_DIR is not set}"
  local port="${HUB_PORT:?HUB_PORT is not set}" tls="${HUB_TLS:-false}"
  local arch user certs_dir health_path changes="" env_tmp scheme curl_tls=()
  [[ "$(id -u)" -eq 0 ]] || fail "privileges" "install-server.sh must run as root"
  case "$server" in
    minio) user=minio-user certs_dir=/etc/minio/certs health_path=/minio/health/live ;;
    rustfs) user=rustfs certs_dir=/etc/rustfs/tls health_path=/health ;;
    *) fail "server" "unknown server '$server' (minio or rustfs)" ;;
  esac
  [[ "$version" != latest ]] || fail "version" "refusing 'latest': pin a release"
  [[ -f "$here/$server.service" ]] || fail "unit" "$here/$server.service was not uploaded"
  arch="$(hub_arch)"

  # Credentials first: read stdin before anything else can consume it.
  env_tmp="$(umask 077 && mktemp)"
  cat >"$env_tmp"
  grep -q . "$env_tmp" || fail "credentials" "no EnvironmentFile content on standard input"

  changes+="$(install_binary "$server" "$version" "$arch" "$server")"
  changes+="$(install_binary mc "$mc_version" "$arch" mcli)"

  if ! id -u "$user" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  fi
  # Only the top directory: the server creates everything below it as its own user, and a
  # recursive chown of a multi-terabyte backup disk on every run would take hours.
  chown "$user:$user" "$data_dir"
  chmod 0750 "$data_dir"

  if [[ "$tls" == true ]]; then
    local cert key
    if [[ "$server" == minio ]]; then cert=public.crt key=private.key; else cert=rustfs_cert.pem key=rustfs_key.pem; fi
    [[ -f "$certs_dir/$cert" && -f "$certs_dir/$key" ]] || fail "tls" "hub.tls is true but $certs_dir/$cert and $certs_dir/$key are not both present; put the certificate and key there"
    chown root:"$user" "$certs_dir" "$certs_dir/$cert" "$certs_dir/$key"
    chmod 0750 "$certs_dir"
    chmod 0640 "$certs_dir/$key"
    scheme=https
    # Liveness only, on loopback, without credentials: the certificate names the hub, not 127.0.0.1.
    curl_tls=(--insecure)
  else
    scheme=http
  fi

  changes+="$(install_if_changed "$env_tmp" "/etc/default/$server" 0600)"
  rm -f "$env_tmp"
  changes+="$(install_if_changed "$here/$server.service" "/etc/systemd/system/$server.service" 0644)"

  systemctl daemon-reload
  systemctl enable --quiet "$server.service"
  if [[ -n "$changes" ]]; then
    echo "restarting $server: binary, unit or credentials changed"
    systemctl restart "$server.service"
  else
    systemctl start "$server.service"
  fi

  local i
  for i in $(seq 1 60); do
    if curl -fsS -o /dev/null "${curl_tls[@]}" "$scheme://127.0.0.1:$port$health_path"; then
      echo "server=$server version=$version arch=$arch healthy after ${i}s"
      return 0
    fi
    sleep 1
  done
  journalctl -u "$server.service" -n 30 --no-pager >&2 || true
  fail "health" "$server did not answer on $scheme://127.0.0.1:$port$health_path within 60 s"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
