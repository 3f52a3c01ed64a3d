#!/bin/sh
# e2e-busybox-rootfs.sh OUT
#
# Lays out the root filesystem of the conformance suite's busybox image in OUT,
# from Debian's busybox-static and bash-static (run in a build stage that has
# both installed). Upstream's image is busybox with every applet in /bin; two
# differences from Debian's package matter to the specs:
#   - Debian's busybox installs some applets in /sbin; specs call them from /bin.
#   - its ash (and dash) drop environment variables whose names are not shell
#     identifiers (`data-1`, `#@!data-1`), which the ConfigMap and Secret env
#     specs print with `sh -c env`. bash passes them through, so /bin/sh is a
#     static bash.
set -eu
out=$1
mkdir -p "$out/bin" "$out/etc" "$out/root" "$out/tmp" "$out/var/www" "$out/home"
chmod 1777 "$out/tmp"
cp /bin/busybox "$out/bin/busybox"
cp /bin/bash-static "$out/bin/sh"
for applet in $(/bin/busybox --list); do
  [ -e "$out/bin/$applet" ] || ln -s busybox "$out/bin/$applet"
done
cp /e2e-busybox-passwd "$out/etc/passwd"
cp /e2e-busybox-group "$out/etc/group"
