#!/bin/sh
# Runs HAProxy, the box's load balancer, from the configuration kiab writes (src/loadbalancer/):
#   start   a fresh master process (the box's entrypoint, at every start of the box)
#   reload  check the configuration, then hand over to new workers; old ones finish their connections
#   stat    each backend server's health as HAProxy sees it (CSV of `show stat`)
set -eu
conf=/etc/kiab/haproxy.cfg
pidfile=/run/kiab/haproxy.pid
socket=/run/kiab/haproxy.sock
state=/run/kiab/haproxy.state
mkdir -p /run/kiab

running() {
  [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

start() {
  # A pid file left by the box's previous life names a process that is gone, or another one; its
  # servers' states are as stale.
  rm -f "$pidfile" "$state"
  haproxy -W -D -q -f "$conf" -p "$pidfile"
}

case "${1:-}" in
  start)
    [ -f "$conf" ] || exit 0
    start
    ;;
  reload)
    haproxy -c -q -f "$conf"
    if running; then
      # Each server's health carries over, so the new process sends nothing to a server known to be down.
      if echo 'show servers state' | socat -T 5 stdio "UNIX-CONNECT:$socket" >"$state.new"; then mv "$state.new" "$state"; else rm -f "$state.new"; fi
      kill -USR2 "$(cat "$pidfile")"
    else
      start
    fi
    ;;
  stat)
    echo 'show stat' | socat -T 5 stdio "UNIX-CONNECT:$socket"
    ;;
  *)
    echo "usage: kiab-box-lb start|reload|stat" >&2
    exit 2
    ;;
esac
