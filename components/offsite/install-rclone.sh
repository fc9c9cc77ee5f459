#!/bin/bash
# Installs the pinned rclone release on the hub from the official zip for this machine's
# architecture, after checking it against the release's SHA256SUMS. Idempotent: nothing happens when
# the installed binary already is that release.
# Usage: install-rclone.sh <version, e.g. v1.71.2> [download base URL]
set -euo pipefail

version=${1:?usage: install-rclone.sh <version> [base URL]}
base=${2:-https://downloads.rclone.org}
dest=${RCLONE_INSTALL_DIR:-/usr/local/bin}

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  armv7l) arch=arm-v7 ;;
  armv6l) arch=arm-v6 ;;
  *) echo "install-rclone: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

if [[ -x "$dest/rclone" ]] && [[ "$("$dest/rclone" version 2>/dev/null | head -n 1)" == "rclone $version" ]]; then
  echo "install-rclone: rclone $version already installed in $dest"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
name="rclone-$version-linux-$arch"
curl -fsSL --retry 3 -o "$tmp/$name.zip" "$base/$version/$name.zip"
curl -fsSL --retry 3 -o "$tmp/SHA256SUMS" "$base/$version/SHA256SUMS"
expected=$(awk -v f="$name.zip" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")
if [[ ! "$expected" =~ ^[0-9a-f]{64}$ ]]; then
  echo "install-rclone: no checksum for $name.zip in SHA256SUMS" >&2
  exit 1
fi
actual=$(sha256sum "$tmp/$name.zip" | cut -d' ' -f1)
if [[ "$actual" != "$expected" ]]; then
  echo "install-rclone: checksum mismatch for $name.zip (expected $expected, got $actual)" >&2
  exit 1
fi
if command -v unzip >/dev/null; then
  unzip -q "$tmp/$name.zip" -d "$tmp"
else
  python3 -m zipfile -e "$tmp/$name.zip" "$tmp"
fi
install -d "$dest"
install -m 0755 "$tmp/$name/rclone" "$dest/.rclone.new"
mv -f "$dest/.rclone.new" "$dest/rclone"
echo "install-rclone: installed $("$dest/rclone" version | head -n 1) in $dest"
