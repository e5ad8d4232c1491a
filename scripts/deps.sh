#!/usr/bin/env bash
# Installs what chaosload's tests and demo need, when it is missing:
# PostgreSQL (initdb, postgres), redis-server and haproxy (the demo stack;
# haproxy balances its replicas), and for
# the tests also webdis (a service of the stack.services tests), nftables
# (kernel loss) and chromium (the HTML report and dashboard tests).
# `deps.sh demo` installs only what the demo needs. As root it uses
# apt-get; otherwise it prints the command to run.
set -euo pipefail
only_demo=false
[ "${1:-}" = demo ] && only_demo=true

missing=()
have_pg() {
  command -v initdb >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
have_pg || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# haproxy is the load balancer in front of the demo's replicas
# (stack: {replicas: 3}); Debian installs it in /usr/sbin
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
if ! $only_demo; then
# webdis (an HTTP interface to Redis) is the third-party service runner's
# stack.services tests start
command -v webdis >/dev/null 2>&1 || missing+=(webdis)
# nft (nftables) puts the kernel-loss fault's packet drops in place; the
# kernel-loss tests need it
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
# headless Chromium renders the HTML report in report's tests and drives the
# game-day dashboard in gameday's tests
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
}
