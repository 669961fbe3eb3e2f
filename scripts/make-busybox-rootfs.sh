#!/usr/bin/env bash
# Make a minimal root filesystem from Debian's busybox-static: one static
# binary plus a symlink per applet, and the files a container expects.
# Usage: make-busybox-rootfs.sh DEST   (DEST is replaced atomically)
set -euo pipefail
dest=${1:?usage: make-busybox-rootfs.sh DEST}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-busybox-rootfs: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
command -v file >/dev/null && file -L "$busybox" 2>/dev/null | grep -q 'dynamically' && { echo "make-busybox-rootfs: $busybox is not static" >&2; exit 1; }

tmp=$(mktemp -d "$(dirname "$dest")/.rootfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,var,run}
chmod 1777 "$tmp/tmp"
cp "$busybox" "$tmp/bin/busybox"
for applet in $("$busybox" --list-full); do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$tmp/$(dirname "$applet")"
  ln -sf /bin/busybox "$tmp/$applet"
done
cat > "$tmp/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$tmp/etc/group" <<'G'
root:x:0:
daemon:x:1:
wheel:x:10:root
nogroup:x:65534:
G
echo "127.0.0.1 localhost" > "$tmp/etc/hosts"
: > "$tmp/etc/resolv.conf"
echo busybox > "$tmp/etc/hostname"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
