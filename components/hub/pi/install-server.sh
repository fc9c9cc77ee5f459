#!/usr/bin/env bash
# Installs the hub's S3 server (Silo or RustFS, at the pinned release) as a systemd service, and
# waits until the server answers. The bucket and users are then configured by `pulumi up` through the
# server's S3 and admin APIs (components/hub/backupHub.ts), so no client is installed. Every download is a GitHub
# release asset named on the command line with its sha256 (components/hub/releases.ts); a download
# whose sha256 differs is refused before anything is installed; nothing comes from the withdrawn
# MinIO download site.
#
# Idempotent: a binary installed from an archive with the expected sha256 is not downloaded again,
# an unchanged unit or credentials file is not rewritten, and the service is restarted only when one
# of them changed. On a host where this project installed MinIO before, Silo takes over in place:
# the old minio.service is stopped and disabled, and Silo serves the same data directory as the
# same service user (same on-disk format).
#
# Input (environment): HUB_SERVER (silo | rustfs), HUB_VERSION, HUB_SERVER_ASSETS ("<arch> <url>
# <sha256>" per architecture, space-separated), HUB_DATA_DIR, HUB_PORT, HUB_TLS (true | false). Standard input: the content of the server's
# EnvironmentFile (admin credentials). It is written root-only (0600) and never passed on a command line.
# The unit file is read from this script's directory (<server>.service, uploaded beside it).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# Command substitutions ($(install_binary ...)) stop on a failing command too.
shopt -s inherit_errexit

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# hub_arch and fail come from the preflight, so both steps agree on architecture names.
# shellcheck source=preflight.sh
source "$here/preflight.sh"

BIN_DIR="${HUB_BIN_DIR:-/usr/local/bin}"

# "<url> <sha256>" of the asset for an architecture, from a "<arch> <url> <sha256> ..." list.
asset_for() {
  local assets="$1" arch="$2" a url sha
  local -a words
  read -r -a words <<<"$assets"
  while ((${#words[@]} >= 3)); do
    a="${words[0]}" url="${words[1]}" sha="${words[2]}"
    words=("${words[@]:3}")
    if [[ "$a" == "$arch" ]]; then
      [[ "$url" == https://github.com/*/releases/download/* ]] || fail "download" "$url is not a GitHub release asset"
      [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || fail "download" "no valid sha256 for $url"
      echo "$url $sha"
      return 0
    fi
  done
  fail "architecture" "no release asset for '$arch' in the pinned list"
}

# Unpacks <archive> into <dir> (tar.gz or zip, by name).
unpack() {
  local archive="$1" dir="$2"
  mkdir -p "$dir"
  case "$archive" in
    *.tar.gz | *.tgz) tar -xzf "$archive" -C "$dir" ;;
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$archive" -d "$dir"
      else
        python3 -m zipfile -e "$archive" "$dir"
      fi
      ;;
    *) fail "install" "unknown archive type: $archive" ;;
  esac
}

# Installs BIN_DIR/<binary> from the release asset for <arch>, unless the installed file came from an
# archive with the expected sha256 (recorded beside it). Prints "changed" when it installed something.
install_binary() {
  local assets="$1" arch="$2" binary="$3" pair url sha name tmp actual found
  # Not `read <<<"$(...)"`: a failure inside a here-string's substitution would not stop the script.
  pair="$(asset_for "$assets" "$arch")" || exit 1
  read -r url sha <<<"$pair"
  name="${url##*/}"
  if [[ -x "$BIN_DIR/$binary" && -f "$BIN_DIR/.$binary.sha256" && "$(cat "$BIN_DIR/.$binary.sha256")" == "$sha" ]]; then
    return 0
  fi
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -rf '$tmp'" RETURN
  curl -fsSL --retry 3 --proto '=https' -o "$tmp/$name" "$url" || fail "download" "cannot download $url"
  actual="$(sha256sum "$tmp/$name" | cut -d' ' -f1)"
  [[ "$actual" == "$sha" ]] || fail "download" "checksum mismatch for $name: expected $sha, got $actual; refusing to install it"
  unpack "$tmp/$name" "$tmp/unpacked"
  found="$(find "$tmp/unpacked" -type f -name "$binary" | head -n 1)"
  [[ -n "$found" ]] || fail "install" "$name does not contain '$binary'"
  install -d -m 0755 "$BIN_DIR"
  install -m 0755 "$found" "$BIN_DIR/.$binary.new"
  mv -f "$BIN_DIR/.$binary.new" "$BIN_DIR/$binary"
  echo "$sha" >"$BIN_DIR/.$binary.sha256"
  echo changed
}

# Installs <source> at <dest> with mode/owner unless identical. Prints "changed" when it wrote.
install_if_changed() {
  local src="$1" dest="$2" mode="$3"
  if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then return 0; fi
  install -m "$mode" -o root -g root "$src" "$dest"
  echo changed
}

# A MinIO that this project (or the user) installed before: Silo replaces it in place. Its unit is
# stopped and disabled (both serve the same port and data directory); its files are left alone.
retire_minio() {
  if systemctl cat minio.service >/dev/null 2>&1; then
    echo "replacing minio.service with silo.service (same data directory, same on-disk format)"
    systemctl disable --now --quiet minio.service || true
  fi
}

main() {
  local server="${HUB_SERVER:?HUB_SERVER is not set}" version="${HUB_VERSION:?HUB_VERSION is not set}"
  local server_assets="${HUB_SERVER_ASSETS:?HUB_SERVER_ASSETS is not set}"
  local data_dir="${HUB_DATA_DIR:?HUB_DATA_DIR is not set}"
  local port="${HUB_PORT:?HUB_PORT is not set}" tls="${HUB_TLS:-false}"
  local arch user certs_dir health_path changes="" env_tmp scheme curl_tls=()
  [[ "$(id -u)" -eq 0 ]] || fail "privileges" "install-server.sh must run as root"
  case "$server" in
    # minio-user: the user a MinIO install ran as, so Silo reads a MinIO data directory as it is.
    silo) user=minio-user certs_dir=/etc/silo/certs health_path=/minio/health/live ;;
    rustfs) user=rustfs certs_dir=/etc/rustfs/tls health_path=/health ;;
    minio) fail "server" "MinIO community builds are no longer distributed and the last one has unfixed vulnerabilities; use silo, which replaces MinIO in place" ;;
    *) fail "server" "unknown server '$server' (silo or rustfs)" ;;
  esac
  [[ "$version" != latest ]] || fail "version" "refusing 'latest': pin a release"
  [[ -f "$here/$server.service" ]] || fail "unit" "$here/$server.service was not uploaded"
  arch="$(hub_arch)"

  # Credentials first: read stdin before anything else can consume it.
  env_tmp="$(umask 077 && mktemp)"
  cat >"$env_tmp"
  grep -q . "$env_tmp" || fail "credentials" "no EnvironmentFile content on standard input"

  changes+="$(install_binary "$server_assets" "$arch" "$server")"

  if ! id -u "$user" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  fi
  # Only the top directory: the server creates everything below it as its own user, and a
  # recursive chown of a multi-terabyte backup disk on every run would take hours.
  chown "$user:$user" "$data_dir"
  chmod 0750 "$data_dir"

  if [[ "$tls" == true ]]; then
    local cert key
    if [[ "$server" == silo ]]; then cert=public.crt key=private.key; else cert=rustfs_cert.pem key=rustfs_key.pem; fi
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

  [[ "$server" != silo ]] || retire_minio
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
