#!/usr/bin/env bash
# Preflight of the Pi hub: checks that the host can take the S3 server, and changes nothing.
# It never formats, partitions or mounts anything: the data disk must already be mounted.
#
# Input (environment): HUB_DATA_DIR (absolute path where the server keeps its data),
# HUB_SERVER (silo | rustfs: which tools the install step needs), HUB_OS (debian | nixos; default debian).
# Output: `key=value` lines (data_dir, mount_point, fs_type, free_bytes, arch, init); exit 1 with
# "preflight failed: <check>: <why>" on stderr when a check fails.
set -euo pipefail

fail() {
  echo "preflight failed: $1: $2" >&2
  exit 1
}

# uname -m to the architecture names of the server releases; 32-bit ARM (armv7l, the default of
# older Raspberry Pi OS images) has no Silo/RustFS build that this project pins.
hub_arch() {
  local machine
  machine="$(uname -m)"
  case "$machine" in
    aarch64 | arm64) echo arm64 ;;
    x86_64 | amd64) echo amd64 ;;
    *) fail "architecture" "unsupported machine type '$machine': the hub needs a 64-bit OS on arm64 (aarch64) or amd64 (x86_64)" ;;
  esac
}

check_data_dir() {
  local dir="$1" mounts mount_point fs_type free_bytes size_bytes
  [[ "$dir" == /* ]] || fail "dataDir" "'$dir' is not an absolute path"
  [[ -d "$dir" ]] || fail "dataDir" "'$dir' does not exist or is not a directory; create it on the mounted data disk first (this program never formats, partitions or mounts disks)"
  # The last line is the mount that is visible at that path (a path can be mounted over twice).
  mounts="$(findmnt --noheadings --output TARGET,FSTYPE --target "$dir")" || fail "dataDir" "cannot find the filesystem holding '$dir'"
  read -r mount_point fs_type <<<"$(tail -n 1 <<<"$mounts")"
  if [[ "$mount_point" == "/" ]]; then
    fail "dataDir" "'$dir' is on the root filesystem (/), not on a separately mounted data disk; mount the disk (e.g. in /etc/fstab) and point hub.dataDir at a directory on it"
  fi
  free_bytes="$(df --output=avail --block-size=1 "$dir" | tail -n 1 | tr -d ' ')"
  size_bytes="$(df --output=size --block-size=1 "$dir" | tail -n 1 | tr -d ' ')"
  # A full disk takes no backup: refuse below 5% free (the server itself refuses writes near full,
  # and every backup written there would fail later, silently for whoever is not watching).
  if ((free_bytes * 20 < size_bytes)); then
    fail "dataDir" "'$dir' ($mount_point) is full: $free_bytes of $size_bytes bytes free (less than 5%); free space or use a larger disk"
  fi
  echo "data_dir=$dir"
  echo "mount_point=$mount_point"
  echo "fs_type=$fs_type"
  echo "free_bytes=$free_bytes"
  case "$fs_type" in
    tmpfs | ramfs) echo "preflight warning: '$dir' is on $fs_type, which is memory-backed: backups there do not survive a reboot" >&2 ;;
  esac
}

# sd_booted(3): systemd is the running init exactly when /run/systemd/system/ exists.
check_systemd() {
  command -v systemctl >/dev/null 2>&1 || fail "systemd" "systemctl not found: the hub runs its server as a systemd service"
  [[ -d /run/systemd/system ]] || fail "systemd" "systemd is installed but is not the running init (/run/systemd/system is missing)"
  echo "init=systemd"
}

check_tools() {
  local tool
  for tool in curl sha256sum install tar; do
    command -v "$tool" >/dev/null 2>&1 || fail "tools" "'$tool' not found; install it (apt-get install curl coreutils tar)"
  done
  if [[ "$1" == "rustfs" ]] && ! command -v unzip >/dev/null 2>&1 && ! command -v python3 >/dev/null 2>&1; then
    fail "tools" "RustFS ships as a zip archive: install unzip (apt-get install unzip)"
  fi
}

# The install and configure steps run as root: directly, or through sudo without a password
# prompt (an SSH session has no terminal to type one into).
check_privileges() {
  if [[ "$(id -u)" -ne 0 ]] && ! sudo -n true 2>/dev/null; then
    fail "privileges" "user '$(id -un)' is not root and cannot run sudo without a password; allow it (e.g. '$(id -un) ALL=(ALL) NOPASSWD: ALL' in /etc/sudoers.d/) or connect as root"
  fi
}

main() {
  local data_dir="${HUB_DATA_DIR:-}" server="${HUB_SERVER:-silo}" arch
  [[ -n "$data_dir" ]] || fail "dataDir" "HUB_DATA_DIR is not set"
  case "$server" in silo | rustfs) ;; *) fail "server" "unknown server '$server' (silo or rustfs)" ;; esac
  check_data_dir "$data_dir"
  arch="$(hub_arch)"
  echo "arch=$arch"
  check_systemd
  # A NixOS hub installs nothing over SSH (its module does), so it needs no download tools.
  [[ "${HUB_OS:-debian}" == nixos ]] || check_tools "$server"
  check_privileges
  echo "preflight ok"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
