#!/bin/sh
# e2e-busybox-rootfs.sh OUT
#
# Builds busybox from its upstream source (busybox.tar.bz2, Debian's pristine
# orig tarball, checked by kiab before the build) and lays out the root
# filesystem of the conformance suite's busybox image in OUT: every applet in
# /bin, as upstream's image has them. Not Debian's busybox-static: Debian
# patches ash to drop environment variables whose names are not identifiers
# (`data-1`), which the ConfigMap and Secret env specs print with `sh -c env`,
# and installs some applets in /sbin; and not another shell, since specs match
# ash's own messages ("/bin/sh: can't create /file: Read-only file system").
set -eu
out=$1
mkdir -p /src
tar -xjf /busybox.tar.bz2 -C /src --strip-components=1
cd /src
make -s defconfig >/dev/null
# Static, as upstream's image; tc needs kernel headers that no longer exist (CBQ).
sed -i -e 's/^# CONFIG_STATIC is not set$/CONFIG_STATIC=y/' -e 's/^CONFIG_TC=y$/# CONFIG_TC is not set/' .config
make -s -j"$(nproc)" busybox >/dev/null
mkdir -p "$out/bin" "$out/etc" "$out/root" "$out/tmp" "$out/var/www" "$out/home"
chmod 1777 "$out/tmp"
cp busybox "$out/bin/busybox"
for applet in $(./busybox --list); do
  [ -e "$out/bin/$applet" ] || ln -s busybox "$out/bin/$applet"
done
cp /e2e-busybox-passwd "$out/etc/passwd"
cp /e2e-busybox-group "$out/etc/group"
