#!/bin/sh
# Runs HAProxy, the box's load balancer, from the configuration kiab writes (src/loadbalancer/):
#   start   a fresh master process (the box's entrypoint, at every start of the box)
#   reload  check the configuration, then hand over to new workers, and return once they serve it; old ones
#           finish their connections
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

# The worker answering on the stats socket, which each worker binds anew.
worker() {
  echo 'show info' | socat -T 2 stdio "UNIX-CONNECT:$socket" 2>/dev/null | sed -n 's/^Pid: //p'
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
      before=$(worker)
      kill -USR2 "$(cat "$pidfile")"
      # USR2 only asks the master: its new worker binds the new listeners a moment later. kiab returns once
      # the box routes as configured (a port just added answers at once), so this waits for that worker.
      waited=0
      while [ "$(worker)" = "$before" ]; do
        waited=$((waited + 1))
        if [ "$waited" -gt 100 ]; then
          echo "kiab-box-lb: the load balancer did not take the new configuration within 10 s" >&2
          exit 1
        fi
        sleep 0.1
      done
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
