#!/bin/sh
# Managed by provision; local edits are overwritten.
# keepalived notify script for ka67: notify.sh <master|backup|fault|stop> [instance]
# Logs each VRRP transition to the journal. It never starts or restarts nginx: keepalived
# tracks nginx, systemd runs it (the how-to restarted nginx on every move to BACKUP).
host=ka67
state="$1"
instance="${2:-}"
case "$state" in
    master|backup|fault|stop) ;;
    *) echo "usage: $0 {master|backup|fault|stop} [instance]" >&2; exit 1 ;;
esac
STATE=$(printf '%s' "$state" | tr '[:lower:]' '[:upper:]')
logger -t keepalived-notify -p daemon.notice "$host: ${instance:-vrrp} entered $STATE state"
exit 0
