#!/usr/bin/env bash
# Installs the engines bench/run.ts and bench/idle-memory.ts compare berth
# with: Debian's docker.io (dockerd, containerd, containerd-shim-runc-v2) and
# podman (with conmon). Not part of setup.sh: CI does not need them. No
# service is started or enabled: the benchmarks start dockerd themselves, on
# a private socket and data root, with no iptables or bridge, and stop it.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(docker.io podman)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench-setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A policy-rc.d that refuses every start keeps the maintainer scripts from
  # starting docker and containerd system-wide (without systemd, invoke-rc.d
  # would otherwise start them now and on every boot).
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  trap 'if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Nothing of theirs runs at boot.
if [ -d /run/systemd/system ]; then
  systemctl disable --now docker.service docker.socket containerd.service >/dev/null 2>&1 || true
else
  for s in docker containerd; do
    [ -x "/etc/init.d/$s" ] && update-rc.d "$s" disable >/dev/null 2>&1 || true
  done
fi
echo "bench-setup: ok ($(/usr/bin/docker --version 2>/dev/null || echo 'docker missing'); $(podman --version 2>/dev/null || echo 'podman missing'))"
