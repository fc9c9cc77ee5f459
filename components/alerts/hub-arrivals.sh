#!/bin/sh
# The Pi hub's own dead-man's switch, independent of the cluster: checks that new objects keep
# arriving in the hub bucket and, when none arrived for ARRIVALS_MAX_AGE_MINUTES, says so through the
# stack's notify channels (ntfy, Slack, email); says so again every ARRIVALS_REPEAT_MINUTES while it
# lasts, and once more when objects arrive again. Run by homelab-backup-arrivals.timer.
#
# It reads the server's data directory, not the S3 API: no credential is needed to look, and it
# still works when the S3 server is down (the silence is then reported too). MinIO and RustFS keep
# each object as a directory <dataDir>/<bucket>/<key>/ whose metadata file is rewritten on every
# write; their own system folders (.minio.sys, .rustfs.sys) and staging uploads (.partial/) do not count.
#
# Credentials come from the environment (systemd EnvironmentFile, root-only) and reach curl through a
# 0600 config file, never its command line (other users on the hub can read command lines).
#
# POSIX sh (dash on Debian, BusyBox in the tests). Environment:
#   ARRIVALS_DIR (<dataDir>/<bucket>), ARRIVALS_MAX_AGE_MINUTES, ARRIVALS_REPEAT_MINUTES (1440),
#   ARRIVALS_STATE (state file, default /var/lib/homelab-backup/arrivals.state), ARRIVALS_HUB (name),
#   ARRIVALS_NTFY_URL (publish URL with the topic), ARRIVALS_NTFY_TOKEN, ARRIVALS_SLACK_WEBHOOK_URL,
#   ARRIVALS_SMTP_URL (smtp://host:587 or smtps://host:465), ARRIVALS_SMTP_FROM, ARRIVALS_SMTP_TO,
#   ARRIVALS_SMTP_USER, ARRIVALS_SMTP_PASSWORD, ARRIVALS_SMTP_TLS (required|off: off only for tests),
#   CURL (curl).
set -eu

dir=${ARRIVALS_DIR:?}
max_age=${ARRIVALS_MAX_AGE_MINUTES:?}
repeat=${ARRIVALS_REPEAT_MINUTES:-1440}
state=${ARRIVALS_STATE:-/var/lib/homelab-backup/arrivals.state}
hub=${ARRIVALS_HUB:-$(hostname)}
CURL=${CURL:-curl}

case "$max_age$repeat" in *[!0-9]*) echo "arrivals: ARRIVALS_MAX_AGE_MINUTES and ARRIVALS_REPEAT_MINUTES must be whole minutes" >&2; exit 2 ;; esac
[ -d "$dir" ] || { echo "arrivals: $dir does not exist" >&2; exit 2; }
mkdir -p "$(dirname "$state")"
work=$(mktemp -d "${TMPDIR:-/tmp}/arrivals.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 077

# Any file written in the last max_age minutes, outside system folders and staging uploads.
recent=$(find "$dir" \( -name .minio.sys -o -name .rustfs.sys -o -name .partial \) -prune -o -type f -mmin "-$max_age" -print | head -n 1)
now=$(date +%s)
prev=ok
last=0
if [ -r "$state" ]; then
  read -r prev last <"$state" || true
fi
case "$last" in '' | *[!0-9]*) last=0 ;; esac

# Backslash and double quote escaped: the escaping of JSON strings and of curl config values alike.
esc() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }

# One curl run per channel, its URL and secret headers in a 0600 config file.
post() { # <config file>
  "$CURL" -fsS -m 30 -K "$1" -o /dev/null || { echo "arrivals: notification failed" >&2; return 1; }
}

notify() { # <title> <message>; fails when a channel failed
  sent=0
  failed=0
  if [ -n "${ARRIVALS_NTFY_URL:-}" ]; then
    c=$work/ntfy.conf
    {
      printf 'url = "%s"\n' "$(esc "$ARRIVALS_NTFY_URL")"
      printf 'header = "Title: %s"\n' "$(esc "$1")"
      printf 'header = "Tags: floppy_disk"\n'
      [ -z "${ARRIVALS_NTFY_TOKEN:-}" ] || printf 'header = "Authorization: Bearer %s"\n' "$(esc "$ARRIVALS_NTFY_TOKEN")"
      printf 'data-binary = "@%s"\n' "$work/ntfy.body"
    } >"$c"
    printf '%s' "$2" >"$work/ntfy.body"
    if post "$c"; then sent=$((sent + 1)); else failed=$((failed + 1)); fi
  fi
  if [ -n "${ARRIVALS_SLACK_WEBHOOK_URL:-}" ]; then
    c=$work/slack.conf
    printf '{"text":"*%s*\\n%s"}' "$(esc "$1")" "$(esc "$2")" >"$work/slack.body"
    { printf 'url = "%s"\n' "$(esc "$ARRIVALS_SLACK_WEBHOOK_URL")"; printf 'header = "Content-Type: application/json"\n'; printf 'data-binary = "@%s"\n' "$work/slack.body"; } >"$c"
    if post "$c"; then sent=$((sent + 1)); else failed=$((failed + 1)); fi
  fi
  if [ -n "${ARRIVALS_SMTP_URL:-}" ]; then
    c=$work/smtp.conf
    printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' "$ARRIVALS_SMTP_FROM" "$ARRIVALS_SMTP_TO" "$1" "$2" >"$work/mail"
    {
      printf 'url = "%s"\n' "$(esc "$ARRIVALS_SMTP_URL")"
      printf 'mail-from = "%s"\nmail-rcpt = "%s"\n' "$(esc "$ARRIVALS_SMTP_FROM")" "$(esc "$ARRIVALS_SMTP_TO")"
      [ -z "${ARRIVALS_SMTP_PASSWORD:-}" ] || printf 'user = "%s:%s"\n' "$(esc "${ARRIVALS_SMTP_USER:-$ARRIVALS_SMTP_FROM}")" "$(esc "$ARRIVALS_SMTP_PASSWORD")"
      [ "${ARRIVALS_SMTP_TLS:-required}" = off ] || printf 'ssl-reqd\n'
      printf 'upload-file = "%s"\n' "$work/mail"
    } >"$c"
    if post "$c"; then sent=$((sent + 1)); else failed=$((failed + 1)); fi
  fi
  echo "arrivals: notified $sent channel(s), $failed failed: $1" >&2
  [ "$failed" -eq 0 ]
}

if [ -z "$recent" ]; then
  if [ "$prev" != stale ] || [ $((now - last)) -ge $((repeat * 60)) ]; then
    # The state is written only once every channel took the message: a failed one is retried next run.
    notify "Backup hub $hub: no new backups for ${max_age} minutes" "No object arrived in $dir for ${max_age} minutes. Every backup job writing to this hub has stopped, or the cluster is down: check it."
    printf 'stale %s\n' "$now" >"$state"
  fi
  exit 0
fi
if [ "$prev" = stale ]; then
  notify "Backup hub $hub: backups arriving again" "New objects arrive in $dir again."
fi
printf 'ok %s\n' "$now" >"$state"
