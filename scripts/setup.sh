#!/usr/bin/env bash
# One step installs everything berth needs on a fresh Debian 12 machine that
# has only Node.js, npm, cc, make and python3. Safe to run again; fast when
# nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: busybox-static for the built-in root filesystem, runc for
# the side-by-side benchmark, iproute2 for network namespaces, libc6-dev for
# the static helper, docker-registry + apache2-utils (htpasswd) + openssl for
# the registry tests; containerd (with ctr) and podman (with conmon) for the
# tests that run berth as their runc; libcap2-bin (setcap/getcap) for the
# file-capability tests; nftables + iptables for the bridge network's firewall.
packages=(busybox-static runc iproute2 nftables iptables libc6-dev docker-registry apache2-utils openssl zstd skopeo tini attr containerd podman libcap2-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Tests start their own registries on loopback; the packaged service would
# listen on every interface.
if [ -d /run/systemd/system ] && systemctl is-enabled docker-registry >/dev/null 2>&1; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
# The engine tests start containerd on their own socket and directories; a
# system containerd or Podman service that this step installed is not wanted
# (one that was there before, say for Docker, is left alone).
for unit in containerd podman.socket podman; do
  case " ${missing[*]} " in *" ${unit%%.*} "*)
    [ -d /run/systemd/system ] && systemctl disable --now "$unit" >/dev/null 2>&1 || true ;;
  esac
done

# npm dependencies, only when package-lock.json changed since the last install.
stamp=node_modules/.berth-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

make -s -C native
npx tsc -p tsconfig.json
# The CLI in one file, which bin/berth starts faster (scripts/bundle.mjs).
node scripts/bundle.mjs

# The built-in busybox root filesystem and an OCI bundle around it.
mkdir -p build
if [ ! -x build/rootfs/bin/busybox ] || [ /bin/busybox -nt build/rootfs/bin/busybox ]; then
  scripts/make-busybox-rootfs.sh build/rootfs
fi
if [ ! -f build/busybox-bundle/config.json ]; then
  mkdir -p build/busybox-bundle
  ln -sfn ../rootfs build/busybox-bundle/rootfs
  node -- dist/src/cli/main.js runtime spec --bundle build/busybox-bundle \
    -- /bin/sh -c 'echo "hello from $(hostname), I am PID $$. All the processes I can see:"; ps'
fi
# The built-in image: busybox:latest in berth's store, made from the same tree
# as a real image (layer, config, manifest). A reproducible tar (sorted, epoch
# times, numeric owners) gives the same image ID on every machine.
berth() { node -- dist/src/cli/main.js "$@"; }
if [ -z "$(berth images -q busybox:latest 2>/dev/null)" ]; then
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C build/rootfs -cf build/busybox-rootfs.tar .
  berth import --epoch --change 'CMD ["sh"]' --message 'Debian busybox-static, built in' build/busybox-rootfs.tar busybox:latest >/dev/null
  rm -f build/busybox-rootfs.tar
fi
echo "setup: ok"
