#!/usr/bin/env bash
# Installs node exporter on a Debian hub from Debian's own package (prometheus-node-exporter), with
# the textfile collector reading the directory where the hub's jobs (the off-site copy) write their
# records, and waits until it serves metrics. Idempotent: nothing is installed or restarted when the
# package is there and its settings are unchanged.
#
# Input (environment): HUB_TEXTFILE_DIR (absolute path), HUB_NODE_EXPORTER_PORT (default 9100).
# The package reads ARGS from /etc/default/prometheus-node-exporter; its textfile collector reads
# /var/lib/prometheus/node-exporter unless told otherwise (README.textfile in the package).
set -euo pipefail

DEFAULTS=/etc/default/prometheus-node-exporter
PACKAGE_TEXTFILE_DIR=/var/lib/prometheus/node-exporter

fail() {
  echo "node exporter failed: $1: $2" >&2
  exit 1
}

# Sets ARGS= in <defaults file> to the flags node exporter needs. Prints "changed" when it wrote.
set_args() {
  local file="$1" args="$2" tmp
  if [[ -f "$file" ]] && grep -qxF "ARGS=\"$args\"" "$file"; then return 0; fi
  tmp="$(mktemp)"
  if [[ -f "$file" ]] && grep -q '^ARGS=' "$file"; then
    awk -v line="ARGS=\"$args\"" '/^ARGS=/ { print line; next } { print }' "$file" >"$tmp"
  else
    { [[ -f "$file" ]] && cat "$file"; echo "ARGS=\"$args\""; } >"$tmp"
  fi
  install -m 0644 "$tmp" "$file"
  rm -f "$tmp"
  echo changed
}

# The flags for a textfile directory: none for the package's default directory.
args_for() {
  local dir="$1"
  [[ "$dir" == "$PACKAGE_TEXTFILE_DIR" ]] || printf -- '--collector.textfile.directory=%s' "$dir"
}

main() {
  local dir="${HUB_TEXTFILE_DIR:?HUB_TEXTFILE_DIR is not set}" port="${HUB_NODE_EXPORTER_PORT:-9100}" changes="" i
  [[ "$(id -u)" -eq 0 ]] || fail "privileges" "install-node-exporter.sh must run as root"
  [[ "$dir" =~ ^/[A-Za-z0-9._/-]+$ ]] || fail "textfile" "'$dir' must be an absolute path of letters, digits, '.', '_', '-' and '/'"
  if ! dpkg-query -W -f '${Status}' prometheus-node-exporter 2>/dev/null | grep -q 'install ok installed'; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-node-exporter >/dev/null ||
      fail "install" "apt-get install prometheus-node-exporter failed (run apt-get update on the hub?)"
    changes=installed
  fi
  install -d -m 0755 "$dir"
  changes+="$(set_args "$DEFAULTS" "$(args_for "$dir")")"
  systemctl enable --quiet prometheus-node-exporter.service
  if [[ -n "$changes" ]]; then systemctl restart prometheus-node-exporter.service; else systemctl start prometheus-node-exporter.service; fi
  for ((i = 1; i <= 30; i++)); do
    if curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q '^node_textfile_scrape_error'; then
      echo "node exporter serving on :$port (textfile directory $dir)"
      return 0
    fi
    sleep 1
  done
  fail "health" "node exporter does not serve http://127.0.0.1:$port/metrics with the textfile collector"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
